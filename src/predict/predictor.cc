// The predictor factory, loading saved predictors, and the physics the analytic and learned
// predictors share (ShareOf, RooflineMs).
#include "tessera/predict/predictor.h"

#include <algorithm>
#include <cmath>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/features.h"
#include "internal/makers.h"
#include "tessera/base/status.h"
#include "tessera/hw/partition.h"

namespace tessera::predict {
namespace {

absl::Status CheckInputs(const PredictorInputs& inputs) {
  if (inputs.catalog == nullptr || inputs.registry == nullptr) {
    return absl::InvalidArgumentError(
        "predictor inputs need both a catalog and a model registry (a pointer is null)");
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& PredictorNames() {
  static const std::vector<std::string>* const kNames =
      new std::vector<std::string>{"table", "roofline", "learned"};
  return *kNames;
}

absl::StatusOr<std::unique_ptr<Predictor>> MakePredictor(std::string_view name,
                                                         const PredictorInputs& inputs) {
  RETURN_IF_ERROR(CheckInputs(inputs));
  if (name == "table") return internal::MakeTablePredictor(inputs);
  if (name == "roofline") return internal::MakeRooflinePredictor(inputs);
  if (name == "learned") return internal::MakeLearnedPredictor(inputs);
  return absl::InvalidArgumentError(fmt::format("unknown predictor '{}'; use one of: {}", name,
                                                fmt::join(PredictorNames(), ", ")));
}

absl::StatusOr<std::unique_ptr<Predictor>> LoadPredictor(const nlohmann::json& saved,
                                                         const PredictorInputs& inputs) {
  RETURN_IF_ERROR(CheckInputs(inputs));
  ASSIGN_OR_RETURN(std::string format, internal::StringField(saved, "", "format"));
  if (format != "tessera-predictor") {
    return internal::FieldError("format", fmt::format("is '{}', expected 'tessera-predictor': "
                                                      "not a saved tessera predictor",
                                                      format));
  }
  ASSIGN_OR_RETURN(double version, internal::NumberField(saved, "", "version"));
  if (version != 1) {
    return internal::FieldError(
        "version",
        fmt::format("is {}, this tessera reads version 1; refit the predictor", version));
  }
  ASSIGN_OR_RETURN(std::string name, internal::StringField(saved, "", "predictor"));
  if (name == "table") return internal::LoadTablePredictor(saved, inputs);
  if (name == "roofline") return internal::LoadRooflinePredictor(saved, inputs);
  if (name == "learned") return internal::LoadLearnedPredictor(saved, inputs);
  return internal::FieldError("predictor", fmt::format("unknown predictor '{}'; use one of: {}",
                                                       name, fmt::join(PredictorNames(), ", ")));
}

absl::StatusOr<PartitionShare> ShareOf(const hw::GpuModel& gpu, const hw::Partition& partition) {
  if (!gpu.sms || *gpu.sms <= 0) {
    return absl::InvalidArgumentError(
        fmt::format("the catalog does not know the SM count of {}", gpu.name));
  }
  if (absl::Status status = hw::CheckPartition(gpu, partition); !status.ok()) {
    return absl::InvalidArgumentError(std::string(status.message()));
  }
  PartitionShare share;
  if (partition.kind == hw::PartitionKind::kMig) {
    const hw::MigProfile* profile = gpu.FindProfile(partition.mig_profile);
    share.compute_fraction =
        profile->sms ? static_cast<double>(*profile->sms) / *gpu.sms
                     : static_cast<double>(profile->compute_slices) / gpu.compute_slices;
    // Without a known SM count, the SMs the compute slices stand for (never the whole GPU).
    share.sms = profile->sms
                    ? *profile->sms
                    : std::max(1, static_cast<int>(std::lround(share.compute_fraction * *gpu.sms)));
    share.bandwidth_fraction = static_cast<double>(profile->memory_slices) / gpu.memory_slices;
    return share;
  }
  ASSIGN_OR_RETURN(share.sms, hw::PartitionSms(gpu, partition));
  share.sms = std::max(share.sms, 1);
  share.compute_fraction = static_cast<double>(share.sms) / *gpu.sms;
  share.bandwidth_fraction = 1;
  return share;
}

absl::StatusOr<double> RooflineMs(const hw::GpuModel& gpu, const models::ModelInfo& model,
                                  const perf::ProfileKey& key) {
  if (!gpu.peak_fp16_dense_tflops || !gpu.memory_bandwidth_gbps) {
    return absl::InvalidArgumentError(fmt::format(
        "the catalog does not know the {} of {}",
        gpu.peak_fp16_dense_tflops ? "memory_bandwidth_gbps" : "peak_fp16_dense_tflops", gpu.name));
  }
  ASSIGN_OR_RETURN(PartitionShare share, ShareOf(gpu, key.partition));
  ASSIGN_OR_RETURN(internal::Descriptors d, internal::DescriptorsAt(model, key.input));
  // GFLOP / TFLOP/s = ms; MB / (GB/s) = ms.
  double compute_ms =
      key.batch * d.gflops_per_item / (share.compute_fraction * *gpu.peak_fp16_dense_tflops);
  double memory_ms = (d.weights_mb + key.batch * d.activation_mb) /
                     (share.bandwidth_fraction * *gpu.memory_bandwidth_gbps);
  return std::max(compute_ms, memory_ms) * key.procs;
}

}  // namespace tessera::predict
