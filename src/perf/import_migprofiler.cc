// Importer for MIGProfiler's integrated_result CSVs (HuaizhengZhang/MIGProfiler): ResNet-50,
// ViT-B/16 and BERT-base on A100-80GB MIG slices, one instance at a time, batch 1-256.
//
// Columns used: `model_name`, `batch_size`, `seq_length` (NLP files only), `latency` (mean ms per
// batch), `latency_std`, `mig_profile`, `fb_used_mean` (MiB, CUDA context included). The
// `throughput` columns are not used (in the NLP files they do not scale with batch).
#include <algorithm>
#include <map>
#include <set>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/checks.h"
#include "internal/importers.h"
#include "tessera/base/status.h"

namespace tessera::perf::internal {
namespace {

constexpr char kGpu[] = "A100-SXM4-80GB";
// Subtracted from fb_used_mean: the low end of the 500-600 MiB a CUDA context takes (H100
// startup_costs.csv), so the remainder errs on the large side once the validator adds a context.
constexpr double kCudaContextMib = 500;
// A row whose latency_std is at least this share of its mean is kept but flagged.
constexpr double kDoubtfulStdShare = 0.2;

// Rows flagged in one file, for the notes.
struct Doubts {
  int rows = 0;
  double min_share = 1e9, max_share = 0;
  std::set<std::string> models, partitions;
  std::set<int> inputs;
};

class MigProfilerImporter {
 public:
  MigProfilerImporter(const hw::GpuModel& gpu, const models::ModelRegistry& registry)
      : gpu_(gpu), registry_(registry) {}

  absl::Status ImportFile(const std::string& path, ImportResult& result) {
    ASSIGN_OR_RETURN(CsvReader reader, CsvReader::Open(path));
    RETURN_IF_ERROR(reader.RequireColumns(
        {"model_name", "batch_size", "latency", "latency_std", "mig_profile", "fb_used_mean"}));
    const bool has_seq = reader.ColumnIndex("seq_length").has_value();
    Doubts doubts;
    int repeats = 0;
    CsvRow csv;
    while (true) {
      ASSIGN_OR_RETURN(bool more, reader.Next(csv));
      if (!more) break;
      ASSIGN_OR_RETURN(ProfileRow row, ParseRow(csv, has_seq, doubts));
      ASSIGN_OR_RETURN(bool repeat, IsRepeat(row, csv, path, result.table));
      if (repeat) {
        ++repeats;
        continue;
      }
      origins_[row.key] = fmt::format("{}:{}", path, csv.line());
      RETURN_IF_ERROR(AddRow(result.table, std::move(row), csv, path));
    }
    AddNotes(BaseName(path), doubts, repeats, has_seq, result.notes);
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<ProfileRow> ParseRow(const CsvRow& csv, bool has_seq, Doubts& doubts) const {
    ProfileRow row;
    row.key.gpu = gpu_.name;
    ASSIGN_OR_RETURN(std::string_view name, csv.Text("model_name"));
    absl::StatusOr<const models::ModelInfo*> model = registry_.Find(name);
    if (!model.ok()) return csv.Error("model_name", std::string(model.status().message()));
    row.key.model = (*model)->name;
    ASSIGN_OR_RETURN(row.key.input, ParseInput(csv, has_seq, **model));
    ASSIGN_OR_RETURN(int64_t batch, csv.Int("batch_size"));
    if (batch < 1)
      return csv.Error("batch_size", fmt::format("must be at least 1, found {}", batch));
    row.key.batch = static_cast<int>(batch);
    ASSIGN_OR_RETURN(std::string_view profile, csv.Text("mig_profile"));
    row.key.partition = hw::Partition::Mig(std::string(profile));
    absl::Status legal = hw::CheckPartition(gpu_, row.key.partition);
    if (!legal.ok()) return csv.Error("mig_profile", std::string(legal.message()));
    ASSIGN_OR_RETURN(row.latency_ms, csv.Double("latency"));
    ASSIGN_OR_RETURN(row.memory_mib, ParseMemory(csv));
    ASSIGN_OR_RETURN(double std_ms, csv.Double("latency_std"));
    if (row.latency_ms > 0 && std_ms >= kDoubtfulStdShare * row.latency_ms) {
      Flag(row, std_ms / row.latency_ms, doubts);
    }
    return row;
  }

  static absl::StatusOr<int> ParseInput(const CsvRow& csv, bool has_seq,
                                        const models::ModelInfo& model) {
    if (!has_seq) {
      if (model.input_unit == models::InputUnit::kTokens) {
        return csv.Error("model_name", fmt::format("{} takes tokens but the file has no "
                                                   "seq_length column",
                                                   model.name));
      }
      return model.reference_input;
    }
    ASSIGN_OR_RETURN(int64_t seq, csv.Int("seq_length"));
    absl::Status ok = CheckInput(model, seq);
    if (!ok.ok()) return csv.Error("seq_length", std::string(ok.message()));
    return static_cast<int>(seq);
  }

  static absl::StatusOr<std::optional<double>> ParseMemory(const CsvRow& csv) {
    ASSIGN_OR_RETURN(double used, csv.Double("fb_used_mean"));
    if (used < kCudaContextMib) {
      return csv.Error("fb_used_mean",
                       fmt::format("{} MiB is less than the {} MiB CUDA context it includes", used,
                                   kCudaContextMib));
    }
    return std::optional<double>(Round(used - kCudaContextMib, 3));
  }

  static void Flag(const ProfileRow& row, double share, Doubts& doubts) {
    ++doubts.rows;
    doubts.min_share = std::min(doubts.min_share, share);
    doubts.max_share = std::max(doubts.max_share, share);
    doubts.models.insert(row.key.model);
    doubts.partitions.insert(row.key.partition.ToString());
    doubts.inputs.insert(row.key.input);
  }

  // True when an earlier file already gave this configuration the same values (the NLP sequence
  // file repeats the batch file's seq 64 runs); different values are an error.
  absl::StatusOr<bool> IsRepeat(const ProfileRow& row, const CsvRow& csv, const std::string& path,
                                const ProfileTable& table) const {
    const ProfileRow* earlier = table.Find(row.key);
    if (earlier == nullptr) return false;
    if (earlier->latency_ms == row.latency_ms && earlier->memory_mib == row.memory_mib) return true;
    return absl::InvalidArgumentError(
        fmt::format("{}:{}: {} was measured with different values at {}; keep one of the two rows",
                    path, csv.line(), row.key.ToString(), origins_.at(row.key)));
  }

  static void AddNotes(const std::string& name, const Doubts& doubts, int repeats, bool has_seq,
                       std::vector<std::string>& notes) {
    if (repeats > 0) {
      notes.push_back(fmt::format(
          "{}: {} rows repeat configurations of an earlier file with equal values; kept once", name,
          repeats));
    }
    if (doubts.rows == 0) return;
    notes.push_back(fmt::format(
        "{}: {} rows kept but doubtful, latency_std {:.0f}-{:.0f}% of the mean: {} at input {} on "
        "{}{}",
        name, doubts.rows, 100 * doubts.min_share, 100 * doubts.max_share,
        fmt::join(doubts.models, ", "), fmt::join(doubts.inputs, ", "),
        fmt::join(doubts.partitions, ", "),
        has_seq ? "; latency barely grows with sequence length there: inputs probably truncated"
                : ""));
  }

  const hw::GpuModel& gpu_;
  const models::ModelRegistry& registry_;
  std::map<ProfileKey, std::string> origins_;  // file:line of each imported configuration
};

}  // namespace

absl::StatusOr<ImportResult> ImportMigProfiler(const std::string& path, const hw::Catalog& catalog,
                                               const models::ModelRegistry& registry) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, CsvFilesAt(path));
  ASSIGN_OR_RETURN(const hw::GpuModel* gpu, catalog.Find(kGpu));
  ImportResult result;
  result.notes.push_back(fmt::format(
      "GPU {} (the source says A100 80GB); latency_ms = latency (mean of a ~120 s closed-loop "
      "run); throughput columns not used",
      gpu->name));
  result.notes.push_back(fmt::format(
      "memory_mib = fb_used_mean - {:g} MiB (CUDA context estimate: the low end of the 500-600 MiB "
      "seen in h100-sm-partitions/startup_costs.csv)",
      kCudaContextMib));
  result.notes.push_back(
      "files without seq_length (CV) get the registry's reference input (224 px)");
  MigProfilerImporter importer(*gpu, registry);
  for (const std::string& file : files) RETURN_IF_ERROR(importer.ImportFile(file, result));
  return result;
}

}  // namespace tessera::perf::internal
