#include "tessera/hw/partition.h"

#include <charconv>

#include "fmt/core.h"
#include "tessera/base/status.h"

namespace tessera::hw {
namespace {

std::optional<int> ParseInt(std::string_view text) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Partition Partition::Mig(std::string profile) {
  Partition p;
  p.kind = PartitionKind::kMig;
  p.mig_profile = std::move(profile);
  return p;
}

Partition Partition::Sm(int sms) {
  Partition p;
  p.kind = PartitionKind::kSm;
  p.sms = sms;
  return p;
}

Partition Partition::Mps(int percent) {
  Partition p;
  p.kind = PartitionKind::kMps;
  p.mps_percent = percent;
  return p;
}

std::string Partition::ToString() const {
  switch (kind) {
    case PartitionKind::kMig:
      return mig_profile;
    case PartitionKind::kSm:
      return fmt::format("sm:{}", sms);
    case PartitionKind::kMps:
      return fmt::format("mps:{}", mps_percent);
  }
  return "";
}

absl::StatusOr<Partition> ParsePartition(std::string_view text) {
  auto bad = [&](std::string_view expected) {
    return absl::InvalidArgumentError(fmt::format("partition '{}': expected {}", text, expected));
  };
  if (text.rfind("sm:", 0) == 0) {
    std::optional<int> sms = ParseInt(text.substr(3));
    if (!sms || *sms <= 0) return bad("sm:N with N a positive SM count, e.g. sm:64");
    return Partition::Sm(*sms);
  }
  if (text.rfind("mps:", 0) == 0) {
    std::optional<int> percent = ParseInt(text.substr(4));
    if (!percent || *percent <= 0 || *percent > 100) {
      return bad("mps:P with P a percentage in 1..100, e.g. mps:40");
    }
    return Partition::Mps(*percent);
  }
  if (text.empty() || text.find_first_of(" \t:,") != std::string_view::npos) {
    return bad("a MIG profile name (3g.40gb), sm:N or mps:P");
  }
  return Partition::Mig(std::string(text));
}

absl::Status CheckPartition(const GpuModel& gpu, const Partition& partition) {
  switch (partition.kind) {
    case PartitionKind::kMig:
      if (gpu.FindProfile(partition.mig_profile) == nullptr) {
        return absl::InvalidArgumentError(
            fmt::format("{} has no MIG profile '{}'", gpu.name, partition.mig_profile));
      }
      return absl::OkStatus();
    case PartitionKind::kSm: {
      ASSIGN_OR_RETURN(int granted, RoundSmPartition(gpu, partition.sms));
      if (granted != partition.sms) {
        return absl::InvalidArgumentError(fmt::format(
            "sm:{} is not a legal SM partition on {}: green contexts grant at least {} SMs in "
            "multiples of {} (use sm:{})",
            partition.sms, gpu.name, gpu.sm_partition.min_sms, gpu.sm_partition.multiple, granted));
      }
      return absl::OkStatus();
    }
    case PartitionKind::kMps:
      if (partition.mps_percent <= 0 || partition.mps_percent > 100) {
        return absl::InvalidArgumentError(
            fmt::format("mps:{}: the share must be in 1..100", partition.mps_percent));
      }
      return absl::OkStatus();
  }
  return absl::InternalError("unknown partition kind");
}

absl::StatusOr<int> PartitionSms(const GpuModel& gpu, const Partition& partition) {
  switch (partition.kind) {
    case PartitionKind::kMig: {
      const MigProfile* profile = gpu.FindProfile(partition.mig_profile);
      if (profile == nullptr) {
        return absl::InvalidArgumentError(
            fmt::format("{} has no MIG profile '{}'", gpu.name, partition.mig_profile));
      }
      if (!profile->sms) {
        return absl::FailedPreconditionError(
            fmt::format("the catalog does not know the SMs of {} on {}", profile->name, gpu.name));
      }
      return *profile->sms;
    }
    case PartitionKind::kSm:
      return partition.sms;
    case PartitionKind::kMps:
      if (!gpu.sms) {
        return absl::FailedPreconditionError(
            fmt::format("the catalog does not know the SMs of {}", gpu.name));
      }
      return *gpu.sms * partition.mps_percent / 100;
  }
  return absl::InternalError("unknown partition kind");
}

}  // namespace tessera::hw
