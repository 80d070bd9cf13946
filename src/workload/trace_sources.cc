// Trace-driven arrival sources: Azure Functions (per-minute counts), Azure LLM and tessera CSV
// (one row per request). Each streams its file; see tessera/workload/arrivals.h.
#include <algorithm>
#include <cmath>
#include <map>
#include <queue>
#include <string>
#include <tuple>
#include <utility>

#include "fmt/core.h"
#include "internal/sources.h"
#include "internal/trace_files.h"
#include "tessera/base/status.h"

namespace tessera::workload::internal {
namespace {

// One model's arrival times from one function's per-minute counts, in seconds from the start of the
// first replayed minute.
class MinuteCountStream {
 public:
  MinuteCountStream(std::vector<int64_t> counts, double scale, double cv, RngStream rng)
      : counts_(std::move(counts)), scale_(scale), shape_(1.0 / (cv * cv)), rng_(rng) {}

  // The next arrival time; false after the last minute.
  bool Next(double& t_s) { return shape_ == 1.0 ? NextConditioned(t_s) : NextRenewal(t_s); }

 private:
  static constexpr double kMinute = 60.0;

  // count × scale, its fraction rounded up with that probability.
  int64_t ScaledCount(size_t minute) {
    const double scaled = static_cast<double>(counts_[minute]) * scale_;
    const double whole = std::floor(scaled);
    const bool up = scaled > whole && rng_.Uniform() < scaled - whole;
    return static_cast<int64_t>(whole) + (up ? 1 : 0);
  }

  // Poisson conditioned on the minute's count: the count's uniforms in sorted order, each the
  // minimum of the remaining ones (1 - V^(1/m) is the minimum of m uniforms), so nothing is stored.
  bool NextConditioned(double& t_s) {
    while (remaining_ == 0) {
      if (next_minute_ >= counts_.size()) return false;
      minute_ = next_minute_++;
      remaining_ = ScaledCount(minute_);
      position_ = 0;
    }
    const double v = rng_.UniformPositive();
    position_ += (1.0 - position_) * (1.0 - std::pow(v, 1.0 / static_cast<double>(remaining_)));
    --remaining_;
    t_s = (static_cast<double>(minute_) + position_) * kMinute;
    return true;
  }

  // A Gamma renewal process (mean gap 1) in "operational time", mapped to real time through the
  // piecewise-constant rate count × scale / 60: the expected count of each minute is kept and the
  // process runs on across minute boundaries.
  bool NextRenewal(double& t_s) {
    double gap = rng_.Gamma(shape_, 1.0 / shape_);
    while (true) {
      if (minute_ >= counts_.size()) return false;
      const double rate = static_cast<double>(counts_[minute_]) * scale_ / kMinute;
      const double capacity = rate * (kMinute - offset_s_);
      if (gap < capacity) {
        offset_s_ += gap / rate;
        break;
      }
      gap -= capacity;
      ++minute_;
      offset_s_ = 0;
    }
    t_s = static_cast<double>(minute_) * kMinute + offset_s_;
    return true;
  }

  std::vector<int64_t> counts_;
  double scale_;
  double shape_;
  RngStream rng_;
  size_t minute_ = 0;
  size_t next_minute_ = 0;  // conditioned: the minute to open next
  int64_t remaining_ = 0;   // conditioned: arrivals left in `minute_`
  double position_ = 0;     // conditioned: the last arrival's place in the minute, in [0, 1)
  double offset_s_ = 0;     // renewal: the last arrival's offset in `minute_`
};

class FunctionsSource : public ArrivalSource {
 public:
  struct Entry {
    ModelTarget target;
    MinuteCountStream stream;
    double next_s = 0;
    bool live = true;
  };

  FunctionsSource(std::vector<Entry> entries, double duration_s)
      : entries_(std::move(entries)), duration_s_(duration_s) {
    for (Entry& e : entries_) e.live = e.stream.Next(e.next_s);
  }

  bool Next(Arrival& arrival) override {
    Entry* first = nullptr;
    for (Entry& e : entries_) {
      if (e.live && (first == nullptr || e.next_s < first->next_s)) first = &e;
    }
    if (first == nullptr || first->next_s >= duration_s_) {
      for (Entry& e : entries_) e.live = false;
      return false;
    }
    arrival = {SecondsToNs(first->next_s), first->target.model, first->target.Input(std::nullopt)};
    first->live = first->stream.Next(first->next_s);
    return true;
  }

 private:
  std::vector<Entry> entries_;  // in model order, so ties go to the lower model index
  double duration_s_;
};

// A source that reads one row at a time and gives each row to some of its models.
class RowSource : public ArrivalSource {
 public:
  RowSource(std::vector<ModelTarget> targets, const ArrivalOptions& options, double scale)
      : targets_(std::move(targets)),
        duration_ns_(SecondsToNs(options.duration_s)),
        scale_(scale) {}

  bool Next(Arrival& arrival) override {
    while (!done_ && next_ == pending_.size()) ReadAnother();
    if (done_) return false;
    ModelTarget& target = targets_[pending_[next_++]];
    absl::StatusOr<std::optional<int>> input = RowInput(target);
    if (!input.ok()) {
      status_ = input.status();
      done_ = true;
      return false;
    }
    arrival = {time_ns_, target.model, target.Input(*input)};
    return true;
  }
  absl::Status status() const override { return status_; }

 protected:
  // Reads the next row: its time in the trace, and the indices of `targets()` it drives, in order.
  virtual absl::StatusOr<bool> ReadRow(int64_t& trace_ns, std::vector<size_t>& targets) = 0;
  // The current row's input for `target`, if the row has one.
  virtual absl::StatusOr<std::optional<int>> RowInput(const ModelTarget& target) const = 0;
  const std::vector<ModelTarget>& targets() const { return targets_; }

 private:
  void ReadAnother() {
    int64_t trace_ns = 0;
    pending_.clear();
    next_ = 0;
    absl::StatusOr<bool> more = ReadRow(trace_ns, pending_);
    if (!more.ok()) status_ = more.status();
    time_ns_ = static_cast<int64_t>(static_cast<double>(trace_ns) / scale_);
    done_ = !more.ok() || !*more || time_ns_ >= duration_ns_;
  }

  std::vector<ModelTarget> targets_;
  int64_t duration_ns_;
  double scale_;
  std::vector<size_t> pending_;  // targets of the current row
  size_t next_ = 0;              // the next of `pending_` to emit
  int64_t time_ns_ = 0;
  bool done_ = false;
  absl::Status status_;
};

class LlmSource : public RowSource {
 public:
  LlmSource(LlmTraceReader reader, const TraceSpec& trace, std::vector<ModelTarget> targets,
            const ArrivalOptions& options, double scale)
      : RowSource(std::move(targets), options, scale),
        reader_(std::move(reader)),
        tokens_per_input_(trace.tokens_per_input) {
    for (const ModelTarget& target : this->targets()) {
      repeat_rng_.emplace_back(options.seed,
                               kRepeatStreamBase + static_cast<uint64_t>(target.model));
    }
  }

 protected:
  // Rows of no target's split group are skipped.
  absl::StatusOr<bool> ReadRow(int64_t& trace_ns, std::vector<size_t>& targets_out) override {
    while (targets_out.empty()) {
      ASSIGN_OR_RETURN(bool more, reader_.Next(row_));
      if (!more) return false;
      trace_ns = row_.time_ns;
      for (size_t i = 0; i < targets().size(); ++i) {
        if (!InSplit(targets()[i].demand, row_index_)) continue;
        // `repeat` copies: its whole part, and one more with its fractional part's probability.
        const double repeat = targets()[i].demand.repeat;
        size_t copies = static_cast<size_t>(std::floor(repeat));
        if (repeat_rng_[i].Uniform() < repeat - std::floor(repeat)) ++copies;
        targets_out.insert(targets_out.end(), copies, i);
      }
      ++row_index_;
    }
    return true;
  }
  absl::StatusOr<std::optional<int>> RowInput(const ModelTarget& target) const override {
    return TokensToInput(row_.context_tokens, tokens_per_input_, target.max_input);
  }

 private:
  LlmTraceReader reader_;
  double tokens_per_input_;
  LlmRow row_;
  int64_t row_index_ = 0;              // of the next row, 0-based in file order
  std::vector<RngStream> repeat_rng_;  // per target: the coin flips of `repeat`
};

// Spreads the copies of repeated Azure LLM requests (Demand::repeat) over the mean gap between
// the model's own rows (repeat / rate_rps seconds), uniformly and independently, so that a row
// stands for requests arriving until the next one is due rather than a burst at one instant.
// Arrivals of models without repetition keep their times. Times stay non-decreasing: the inner
// source's times are, offsets are >= 0, so an arrival can be released once the inner source has
// passed its time (a heap holds at most about one gap's arrivals).
class SpreadRepeats : public ArrivalSource {
 public:
  SpreadRepeats(std::unique_ptr<ArrivalSource> inner, const std::vector<ModelTarget>& targets,
                const ArrivalOptions& options)
      : inner_(std::move(inner)), duration_ns_(SecondsToNs(options.duration_s)) {
    for (const ModelTarget& target : targets) {
      if (target.demand.repeat == 1.0 || !(target.demand.rate_rps > 0)) continue;
      spread_ns_[target.model] = SecondsToNs(target.demand.repeat / target.demand.rate_rps);
      rng_.emplace(target.model, RngStream(options.seed, kRepeatStreamBase + (uint64_t{1} << 16) +
                                                             static_cast<uint64_t>(target.model)));
    }
  }

  bool Next(Arrival& arrival) override {
    while (!inner_done_ && (heap_.empty() || heap_.top().time_ns > inner_time_ns_)) {
      Arrival next;
      if (!inner_->Next(next)) {
        inner_done_ = true;
        break;
      }
      inner_time_ns_ = next.time_ns;
      auto spread = spread_ns_.find(next.model);
      if (spread != spread_ns_.end()) {
        next.time_ns += static_cast<int64_t>(rng_.at(next.model).Uniform() *
                                             static_cast<double>(spread->second));
      }
      heap_.push(next);
    }
    if (heap_.empty() || heap_.top().time_ns >= duration_ns_) return false;
    arrival = heap_.top();
    heap_.pop();
    return true;
  }
  absl::Status status() const override { return inner_->status(); }

 private:
  struct Later {
    bool operator()(const Arrival& a, const Arrival& b) const {
      return std::tie(a.time_ns, a.model, a.input) > std::tie(b.time_ns, b.model, b.input);
    }
  };
  std::unique_ptr<ArrivalSource> inner_;
  int64_t duration_ns_;
  std::map<int, int64_t> spread_ns_;  // per repeated model
  std::map<int, RngStream> rng_;      // per repeated model: the offsets
  std::priority_queue<Arrival, std::vector<Arrival>, Later> heap_;
  int64_t inner_time_ns_ = 0;
  bool inner_done_ = false;
};

class CsvTraceSource : public RowSource {
 public:
  // keys[i]: the canonical model name of the rows that drive targets[i].
  CsvTraceSource(CsvTraceReader reader, std::string path, std::vector<ModelTarget> targets,
                 std::vector<std::string> keys, const ArrivalOptions& options, double scale)
      : RowSource(std::move(targets), options, scale),
        reader_(std::move(reader)),
        path_(std::move(path)),
        keys_(std::move(keys)) {}

 protected:
  absl::StatusOr<bool> ReadRow(int64_t& trace_ns, std::vector<size_t>& targets_out) override {
    while (targets_out.empty()) {
      ASSIGN_OR_RETURN(bool more, reader_.Next(row_));
      if (!more) return false;
      trace_ns = row_.time_ns;
      for (size_t i = 0; i < targets().size(); ++i) {
        if (keys_[i] == row_.model->name) targets_out.push_back(i);
      }
    }
    return true;
  }
  absl::StatusOr<std::optional<int>> RowInput(const ModelTarget& target) const override {
    if (target.demand.inputs_from_trace && !row_.input) {
      return absl::InvalidArgumentError(fmt::format(
          "{}:{}: column input_size: is empty, but model {} takes its inputs from the trace; "
          "fill it in",
          path_, row_.line, target.name));
    }
    return row_.input;
  }

 private:
  CsvTraceReader reader_;
  std::string path_;
  std::vector<std::string> keys_;
  CsvTraceRow row_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ArrivalSource>> MakeFunctionsSource(const TraceSpec& trace,
                                                                   std::vector<ModelTarget> models,
                                                                   const ArrivalOptions& options) {
  std::vector<FunctionSelector> selectors;
  for (const ModelTarget& m : models) {
    selectors.push_back({m.demand.trace_key, m.demand.split_of, m.demand.split_index});
  }
  ASSIGN_OR_RETURN(auto matches, ReadFunctionSelections(trace.path, selectors, trace.first_minute,
                                                        trace.last_minute));
  std::vector<FunctionsSource::Entry> entries;
  for (size_t i = 0; i < models.size(); ++i) {
    ASSIGN_OR_RETURN(const FunctionRow* row,
                     PickFunction(matches[i], selectors[i].key, trace.path));
    RngStream rng(options.seed, static_cast<uint64_t>(models[i].model));
    MinuteCountStream stream(row->counts, models[i].demand.scale, trace.within_minute_cv, rng);
    entries.push_back({std::move(models[i]), std::move(stream)});
  }
  return std::make_unique<FunctionsSource>(std::move(entries), options.duration_s);
}

absl::StatusOr<std::unique_ptr<ArrivalSource>> MakeLlmSource(const TraceSpec& trace,
                                                             std::vector<ModelTarget> models,
                                                             const ArrivalOptions& options) {
  ASSIGN_OR_RETURN(LlmTraceReader reader, LlmTraceReader::Open(trace.path));
  const double scale = models.front().demand.scale;
  const bool repeats = std::any_of(models.begin(), models.end(),
                                   [](const ModelTarget& m) { return m.demand.repeat != 1.0; });
  const std::vector<ModelTarget> targets = repeats ? models : std::vector<ModelTarget>();
  std::unique_ptr<ArrivalSource> source =
      std::make_unique<LlmSource>(std::move(reader), trace, std::move(models), options, scale);
  if (!repeats) return source;
  return std::make_unique<SpreadRepeats>(std::move(source), targets, options);
}

absl::StatusOr<std::unique_ptr<ArrivalSource>> MakeCsvTraceSource(
    const TraceSpec& trace, std::vector<ModelTarget> models, const models::ModelRegistry& registry,
    const ArrivalOptions& options) {
  ASSIGN_OR_RETURN(CsvTraceReader reader, CsvTraceReader::Open(trace.path, registry));
  std::vector<std::string> keys;
  for (const ModelTarget& m : models) {
    keys.push_back(m.name);
    if (!m.demand.trace_key.empty()) {
      ASSIGN_OR_RETURN(const models::ModelInfo* key, registry.Find(m.demand.trace_key));
      keys.back() = key->name;
    }
    if (m.demand.inputs_from_trace && !reader.has_input_column()) {
      return absl::InvalidArgumentError(fmt::format(
          "{}:1: no input_size column, but model {} takes its inputs from trace '{}'; add the "
          "column or set inputs_from_trace: false",
          trace.path, m.name, trace.name));
    }
  }
  const double scale = models.front().demand.scale;
  return std::make_unique<CsvTraceSource>(std::move(reader), trace.path, std::move(models),
                                          std::move(keys), options, scale);
}

}  // namespace tessera::workload::internal
