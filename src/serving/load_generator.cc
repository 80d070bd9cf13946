#include "tessera/serving/load_generator.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <regex>
#include <system_error>
#include <thread>

#include "fmt/core.h"
#include "httplib.h"
#include "tessera/base/status.h"
#include "tessera/workload/arrivals.h"

namespace tessera::serving {
namespace {

using Clock = std::chrono::steady_clock;

struct Job {
  workload::Arrival arrival;
  Clock::time_point due;
};

// What the connections share: the jobs released so far and the measurements.
class LoadState {
 public:
  LoadState(const workload::Workload& workload, const LoadOptions& options)
      : workload_(workload),
        warmup_ns_(std::llround(options.warmup_s * 1e9)),
        max_open_(options.connections) {
    for (const workload::WorkloadModel& m : workload.models) {
      sim::ModelMetrics metrics;
      metrics.model = m.model;
      metrics.slo_ms = m.slo_ms;
      models_.push_back(std::move(metrics));
    }
  }

  // A connection's mailbox while it waits for a job.
  struct Waiter {
    std::condition_variable wake;
    std::optional<Job> job;
  };

  // Hands `job` to the sender that went idle last (so that few senders stay busy and the rest
  // end), or queues it; true when it was queued and a new sender should be started.
  bool Release(const Job& job) {
    std::lock_guard<std::mutex> lock(mu_);
    ++released_;
    if (!idle_.empty()) {
      Waiter* waiter = idle_.back();
      idle_.pop_back();
      waiter->job = job;
      waiter->wake.notify_one();
      return false;
    }
    backlog_.push_back(job);
    if (open_ >= max_open_) return false;
    ++open_;
    return true;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    for (Waiter* waiter : idle_) waiter->wake.notify_one();
  }
  // The next job, or false when the sender should end: the run is over, or it has been idle for
  // kIdleClose.
  bool Take(Job& job) {
    static constexpr auto kIdleClose = std::chrono::milliseconds(250);
    std::unique_lock<std::mutex> lock(mu_);
    Waiter self;
    for (;;) {
      if (!backlog_.empty()) {
        job = backlog_.front();
        backlog_.pop_front();
        return true;
      }
      if (closed_) break;
      idle_.push_back(&self);
      self.wake.wait_for(lock, kIdleClose, [&] { return self.job.has_value() || closed_; });
      if (self.job) {
        job = *self.job;
        return true;
      }
      idle_.erase(std::find(idle_.begin(), idle_.end(), &self));
      if (closed_ || open_ > 1) break;
    }
    --open_;
    return false;
  }

  // A sender's last act: it touches nothing of the state after this.
  void SenderExited() {
    std::lock_guard<std::mutex> lock(mu_);
    ++exited_;
    exited_cv_.notify_all();
  }
  // The sender the last Release asked for could not be started: it will not come.
  void SenderFailed() {
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
    ++exited_;
  }
  // Waits until `started` senders have exited.
  void WaitForSenders(int64_t started) {
    std::unique_lock<std::mutex> lock(mu_);
    exited_cv_.wait(lock, [&] { return exited_ == started; });
  }

  // Records one answer (status 0: no answer, `error` says why).
  void Record(const Job& job, Clock::time_point sent, Clock::time_point answered, int status,
              const std::string& body, const std::string& error) {
    int64_t latency =
        std::chrono::duration_cast<std::chrono::nanoseconds>(answered - job.due).count();
    int64_t lag = std::chrono::duration_cast<std::chrono::nanoseconds>(sent - job.due).count();
    std::lock_guard<std::mutex> lock(mu_);
    ++answered_;
    lag_.Record(std::max<int64_t>(0, lag));
    if (job.arrival.time_ns < warmup_ns_) return;
    sim::ModelMetrics& m = models_[job.arrival.model];
    ++m.arrivals;
    if (status == 0) {
      ++transport_errors_;
    } else {
      ++http_status_[status];
    }
    if (status != 200 && first_error_.empty()) {
      first_error_ = status == 0 ? error : fmt::format("HTTP {}: {}", status, body);
    }
    if (status == 429 || status == 422) ++m.rejected;
    if (status != 200) return;
    ++m.completed;
    m.within_slo += latency <= std::llround(m.slo_ms * 1e6);
    m.latency.Record(latency);
    nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.contains("queue_ms") && j["queue_ms"].is_number()) {
      m.queueing.Record(std::llround(j["queue_ms"].get<double>() * 1e6));
    }
  }

  void Fill(LoadResult& result) {
    std::lock_guard<std::mutex> lock(mu_);
    result.metrics.models = models_;
    result.http_status = http_status_;
    result.transport_errors = transport_errors_;
    result.sent = answered_;
    result.send_lag_p99_ms = lag_.Quantile(0.99) / 1e6;
    result.first_error = first_error_;
  }
  std::pair<int64_t, int64_t> Progress() {
    std::lock_guard<std::mutex> lock(mu_);
    return {released_, answered_};
  }

 private:
  const workload::Workload& workload_;
  const int64_t warmup_ns_;
  const int64_t max_open_;
  std::mutex mu_;
  std::vector<Waiter*> idle_;  // connections waiting in Take, the last to go idle at the back
  std::deque<Job> backlog_;    // released while no connection was idle
  int64_t open_ = 0;           // connections running
  int64_t exited_ = 0;         // senders that have ended (or failed to start)
  std::condition_variable exited_cv_;
  bool closed_ = false;
  int64_t released_ = 0, answered_ = 0, transport_errors_ = 0;
  std::vector<sim::ModelMetrics> models_;
  std::map<int, int64_t> http_status_;
  sim::LatencyHistogram lag_;
  std::string first_error_;
};

void RunConnection(const workload::Workload& workload, const LoadOptions& options,
                   LoadState& state) {
  httplib::Client client(options.target);
  client.set_keep_alive(false);  // see the header: keep-alive costs the server more
  client.set_tcp_nodelay(true);
  auto timeout = std::chrono::duration<double>(options.timeout_s);
  client.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  client.set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(
      std::min(timeout, std::chrono::duration<double>(10))));
  client.set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  Job job;
  while (state.Take(job)) {
    const workload::WorkloadModel& m = workload.models[job.arrival.model];
    std::string body =
        nlohmann::json{{"model", m.model}, {"input", job.arrival.input}, {"slo_ms", m.slo_ms}}
            .dump();
    Clock::time_point sent = Clock::now();
    httplib::Result res = client.Post("/v1/infer", body, "application/json");
    Clock::time_point answered = Clock::now();
    if (res) {
      state.Record(job, sent, answered, res->status, res->body, "");
    } else {
      state.Record(job, sent, answered, 0, "", httplib::to_string(res.error()));
    }
  }
}

// Checks that the target answers before the clock starts, so that a wrong URL is one clear error
// rather than a run of failed requests.
absl::Status CheckTarget(const std::string& target) {
  httplib::Client client(target);
  client.set_connection_timeout(std::chrono::seconds(5));
  httplib::Result res = client.Get("/health");
  if (!res) {
    return absl::UnavailableError(
        fmt::format("target {}: no answer to GET /health ({}); is `tessera serve` running there?",
                    target, httplib::to_string(res.error())));
  }
  if (res->status != 200) {
    return absl::UnavailableError(
        fmt::format("target {}: GET /health answered {} {}", target, res->status, res->body));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadOptions::Validate() const {
  static const std::regex kUrl(R"(^https?://[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}$)");
  if (!std::regex_match(target, kUrl)) {
    return absl::InvalidArgumentError(
        fmt::format("--target: '{}' is not http://host:port (e.g. http://127.0.0.1:8000)", target));
  }
  if (!(duration_s > 0) || duration_s > 9e9) {
    return absl::InvalidArgumentError(fmt::format("--duration: must be > 0 s, got {}", duration_s));
  }
  if (!(warmup_s >= 0) || warmup_s >= duration_s) {
    return absl::InvalidArgumentError(
        fmt::format("--warmup: must be in [0, duration), got {} of {}", warmup_s, duration_s));
  }
  if (connections < 1 || connections > 10'000) {
    return absl::InvalidArgumentError(
        fmt::format("--connections: must be 1..10000, got {}", connections));
  }
  if (!(timeout_s > 0) || timeout_s > 1e6) {
    return absl::InvalidArgumentError(
        fmt::format("--timeout: must be in (0, 1e6] s, got {}", timeout_s));
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadResult> RunLoad(const workload::Workload& workload,
                                   const models::ModelRegistry& registry,
                                   const LoadOptions& options, std::ostream* progress) {
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(auto sources, workload::MakeArrivalSources(workload, registry,
                                                              {options.duration_s, options.seed}));
  RETURN_IF_ERROR(CheckTarget(options.target));
  LoadState state(workload, options);
  // Senders are started on demand and detached (a long bursty run starts many: joining them only
  // at the end would keep every finished one's stack); each reports its exit.
  int64_t senders = 0;
  std::vector<workload::Arrival> next(sources.size());
  std::vector<bool> live(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) live[i] = sources[i]->Next(next[i]);
  Clock::time_point start = Clock::now() + std::chrono::milliseconds(50);
  int64_t next_report_ns = 10'000'000'000;
  for (;;) {
    int best = -1;
    for (size_t i = 0; i < sources.size(); ++i) {
      if (live[i] && (best < 0 || next[i].time_ns < next[best].time_ns)) best = static_cast<int>(i);
    }
    if (best < 0) break;
    Job job{next[best], start + std::chrono::nanoseconds(next[best].time_ns)};
    std::this_thread::sleep_until(job.due);
    if (state.Release(job)) {
      ++senders;
      try {
        std::thread([&] {
          RunConnection(workload, options, state);
          state.SenderExited();
        }).detach();
      } catch (const std::system_error&) {
        state.SenderFailed();  // the job stays queued for the senders already running
      }
    }
    live[best] = sources[best]->Next(next[best]);
    if (progress != nullptr && job.arrival.time_ns >= next_report_ns) {
      auto [released, answered] = state.Progress();
      *progress << fmt::format("load: {:.0f}/{:.0f} s, {} sent, {} answered\n",
                               job.arrival.time_ns / 1e9, options.duration_s, released, answered);
      next_report_ns += 10'000'000'000;
    }
  }
  state.Close();
  state.WaitForSenders(senders);
  for (const auto& source : sources) RETURN_IF_ERROR(source->status());
  LoadResult result;
  state.Fill(result);
  result.metrics.duration_s = options.duration_s;
  result.metrics.measured_s = options.duration_s - options.warmup_s;
  result.metrics.seed = options.seed;
  result.metrics.router = "server";
  result.target = options.target;
  return result;
}

std::string FormatLoadSummary(const LoadResult& result) {
  // The simulator's model table, without its first line (about a simulation) and its partition
  // table (the client cannot see partitions).
  std::string table = sim::FormatSummary(result.metrics);
  table = table.substr(table.find('\n') + 1);
  if (size_t partitions = table.find("\ngpu  partition"); partitions != std::string::npos) {
    table.resize(partitions + 1);
  }
  std::string out = fmt::format(
      "load: {:g} s of arrivals against {} (metrics over {:g} s), seed {}; latency from each "
      "request's scheduled arrival to its answer\n",
      result.metrics.duration_s, result.target, result.metrics.measured_s, result.metrics.seed);
  out += table;
  std::string answers;
  for (const auto& [status, n] : result.http_status) {
    answers += fmt::format("{}{} x{}", answers.empty() ? "" : ", ", status, n);
  }
  out += fmt::format("HTTP answers: {}; no answer: {}; send lag p99 {:.2f} ms\n",
                     answers.empty() ? "none" : answers, result.transport_errors,
                     result.send_lag_p99_ms);
  if (!result.first_error.empty()) out += fmt::format("first error: {}\n", result.first_error);
  return out;
}

nlohmann::ordered_json LoadResultToJson(const LoadResult& result,
                                        const std::vector<std::string>& command_line) {
  nlohmann::ordered_json j = sim::ResultToJson(result.metrics, command_line);
  nlohmann::ordered_json http = nlohmann::ordered_json::object();
  for (const auto& [status, n] : result.http_status) http[std::to_string(status)] = n;
  j["http"] = http;
  j["transport_errors"] = result.transport_errors;
  j["sent"] = result.sent;
  j["send_lag_p99_ms"] = result.send_lag_p99_ms;
  if (!result.first_error.empty()) j["first_error"] = result.first_error;
  return j;
}

}  // namespace tessera::serving
