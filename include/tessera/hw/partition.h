// tessera/hw/partition.h — the kinds of GPU partition a model can run on.
//
// A Partition is a MIG profile (`3g.40gb`), an SM partition made with green contexts (`sm:64`), or
// an MPS share of the GPU's SMs in percent (`mps:40`). It is what the profile table's `partition`
// column and the Plan's partitions say; its text form round-trips through ToString /
// ParsePartition.
//
// Example:
//   ASSIGN_OR_RETURN(Partition p, ParsePartition("sm:64"));
//   p.kind == PartitionKind::kSm && p.sms == 64;   p.ToString() == "sm:64"
//   ASSIGN_OR_RETURN(int sms, PartitionSms(h100, p));   // 64; for "3g.40gb" the profile's 60
#ifndef TESSERA_HW_PARTITION_H_
#define TESSERA_HW_PARTITION_H_

#include <compare>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"

namespace tessera::hw {

enum class PartitionKind { kMig, kSm, kMps };

struct Partition {
  PartitionKind kind = PartitionKind::kMig;
  std::string mig_profile;  // kMig: the profile name
  int sms = 0;              // kSm: the SM count
  int mps_percent = 0;      // kMps: share of the GPU's SMs, 1..100

  static Partition Mig(std::string profile);
  static Partition Sm(int sms);
  static Partition Mps(int percent);
  std::string ToString() const;
  auto operator<=>(const Partition&) const = default;
};

// Parses "3g.40gb" (any name not starting with "sm:" or "mps:" is a MIG profile name), "sm:N" (N >
// 0) or "mps:P" (0 < P <= 100). InvalidArgument says which form was expected.
absl::StatusOr<Partition> ParsePartition(std::string_view text);

// Checks the partition exists on `gpu`: a MIG profile it has, an SM count that is a legal SM
// partition (within its SMs and granularity), an MPS share in 1..100. InvalidArgument otherwise.
absl::Status CheckPartition(const GpuModel& gpu, const Partition& partition);

// SMs the partition computes on: the MIG profile's SMs, the SM count, or the MPS share of the GPU's
// SMs rounded down. FailedPrecondition when the catalog does not know the value.
absl::StatusOr<int> PartitionSms(const GpuModel& gpu, const Partition& partition);

}  // namespace tessera::hw

#endif  // TESSERA_HW_PARTITION_H_
