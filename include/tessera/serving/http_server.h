// tessera/serving/http_server.h — the HTTP/JSON front of a Scheduler (cpp-httplib).
//
// Endpoints:
//   POST /v1/infer   {"model": "resnet50", "input": 224, "slo_ms": 100}
//       200 {"model", "input", "slot", "batch", "queue_ms", "latency_ms", "within_slo"}
//       400 a malformed body or field (the message names it and what to send), 404 a model the
//       plan does not serve, 422 an input size no bucket holds, 429 the queue is full (retry
//       later), 503 draining, 500 the backend failed. Errors are {"error": "..."}.
//       `slo_ms` may be left out for models with a default SLO (serve --workload).
//       Model names may be aliases (registry: "bert-base" is bert_base).
//   GET /health      200 {"status": "ok", "backend", "models"}; 503 {"status": "draining"}
//   GET /metrics     Prometheus text: requests by model and outcome, latency quantiles, queue
//                    lengths and capacities, batches, busy seconds, outstanding, draining, uptime.
//
// Shutdown(): the scheduler drains (new requests get 503, every accepted one is answered), then
// the listener stops; Serve() returns once every connection's last response is written. `slo_ms`
// is at most 1e7 (about 2.8 hours).
//
// Example:
//   HttpServer server(&scheduler, &registry, {{"resnet50", 100.0}}, {});
//   RETURN_IF_ERROR(server.Bind());              // server.port() is now known
//   std::thread t([&] { server.Serve(); });
//   ...;  server.Shutdown();  t.join();
//
// Thread-safe: Shutdown may be called from any thread (e.g. a signal-waiting thread).
#ifndef TESSERA_SERVING_HTTP_SERVER_H_
#define TESSERA_SERVING_HTTP_SERVER_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "tessera/models/registry.h"
#include "tessera/serving/scheduler.h"

namespace httplib {
class Server;
}

namespace tessera::serving {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8000;     // 0: any free port (see port())
  int threads = 1024;  // connections served at once (a keep-alive connection holds one)
  absl::Status Validate() const;
};

class HttpServer {
 public:
  // All pointers must outlive the server. `default_slo_ms`: per canonical model name.
  HttpServer(Scheduler* scheduler, const models::ModelRegistry* registry,
             std::map<std::string, double> default_slo_ms, const HttpOptions& options);
  ~HttpServer();
  // Binds the listening socket. Unavailable naming host:port when it cannot (in use, no rights).
  absl::Status Bind();
  int port() const { return port_; }
  // Serves until Shutdown() (at once if Shutdown() came first). REQUIRES: Bind() was OK.
  void Serve();
  // Drains the scheduler, then stops listening; idempotent, from any thread, before or during
  // Serve(). A keep-alive connection left idle by its client can delay Serve()'s return by up to
  // the 5 s keep-alive timeout.
  void Shutdown();

 private:
  void Route();
  std::string Metrics() const;

  Scheduler* scheduler_;
  const models::ModelRegistry* registry_;
  std::map<std::string, double> default_slo_ms_;
  HttpOptions options_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> shutting_down_{false};
};

// The scheduler's snapshot as Prometheus text exposition (version 0.0.4).
std::string PrometheusText(const SchedulerSnapshot& snapshot, std::string_view backend);

}  // namespace tessera::serving

#endif  // TESSERA_SERVING_HTTP_SERVER_H_
