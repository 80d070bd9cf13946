// tessera/serving/load_generator.h — replays a workload's arrivals against a running server, on
// time (open loop), and measures what the simulator measures, from real responses.
//
// Arrivals come from the same sources as the simulator's (workload::MakeArrivalSources with the
// same duration and seed), so `load` and `simulate` see the same requests at the same offsets. A
// pacing thread releases each request at its arrival time to a pool of sender threads (opened
// when none is idle; the one that went idle last takes the next request, and one idle for 250 ms
// ends). Each request uses a connection of its own (Connection: close): cpp-httplib's server polls
// every idle keep-alive connection from a thread of its own, which under bursts costs more CPU
// than a loopback connect and delays the server's executors. A request's latency runs from its
// scheduled arrival to its response, so time spent waiting for a sender counts against the
// server, as it would for a real client. SLO attainment, goodput and percentiles are computed as
// sim::SimResult (within SLO: answered 200 no later than arrival + the model's SLO); refusals are
// counted by HTTP status.
//
// Example:
//   LoadOptions o;  o.target = "http://127.0.0.1:8000";  o.duration_s = 30;
//   ASSIGN_OR_RETURN(LoadResult r, RunLoad(workload, registry, o, &std::cerr));
//   std::cout << FormatLoadSummary(r);
//
// RunLoad blocks; it uses at most `connections` + 1 threads of its own.
#ifndef TESSERA_SERVING_LOAD_GENERATOR_H_
#define TESSERA_SERVING_LOAD_GENERATOR_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tessera/models/registry.h"
#include "tessera/sim/metrics.h"
#include "tessera/workload/workload.h"

namespace tessera::serving {

struct LoadOptions {
  std::string target;  // http://host:port of a `tessera serve`
  double duration_s = 60;
  uint64_t seed = 1;
  double warmup_s = 0;     // requests arriving earlier are sent but not counted
  int connections = 1000;  // the most requests in flight at once (sender threads)
  double timeout_s = 120;  // per request; a request still unanswered then counts as an error
  // InvalidArgument naming the flag: target not http(s)://host:port, duration <= 0, warmup
  // outside [0, duration), connections outside 1..10000, timeout outside (0, 1e6] s. Connecting
  // waits at most min(timeout, 10 s).
  absl::Status Validate() const;
};

struct LoadResult {
  // Per workload model and overall: arrivals, completed (200), within SLO, latency and queueing
  // (the server's queue_ms) percentiles; `rejected` counts 429 (overloaded) and 422 (no bucket)
  // answers. Partitions are not known to the client and stay empty.
  sim::SimResult metrics;
  std::map<int, int64_t> http_status;  // every answer by status code (counted requests)
  int64_t transport_errors = 0;        // no answer: connection refused, timeout
  int64_t sent = 0;                    // every request sent, warm-up included
  double send_lag_p99_ms = 0;          // scheduled arrival to the request leaving the client
  std::string first_error;             // the first non-200 answer or transport error, if any
  std::string target;                  // the server
};

absl::StatusOr<LoadResult> RunLoad(const workload::Workload& workload,
                                   const models::ModelRegistry& registry,
                                   const LoadOptions& options, std::ostream* progress);

// A line about the run, the simulator's per-model table, then a line of HTTP answers, transport
// errors and send lag.
std::string FormatLoadSummary(const LoadResult& result);
// The simulator's JSON (sim::ResultToJson) with "http", "transport_errors", "sent" and
// "send_lag_p99_ms" added.
nlohmann::ordered_json LoadResultToJson(const LoadResult& result,
                                        const std::vector<std::string>& command_line);

}  // namespace tessera::serving

#endif  // TESSERA_SERVING_LOAD_GENERATOR_H_
