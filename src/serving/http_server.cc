#include "tessera/serving/http_server.h"

#include <sys/socket.h>

#include <cmath>
#include <future>

#include "fmt/core.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"

namespace tessera::serving {
namespace {

// JSON text; bytes that are not UTF-8 (echoed from a request) become U+FFFD instead of throwing.
std::string Dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void SendError(httplib::Response& res, int code, const std::string& message) {
  res.status = code;
  res.set_content(Dump({{"error", message}}), "application/json");
}

int HttpCode(OutcomeCode code) {
  switch (code) {
    case OutcomeCode::kOk:
      return 200;
    case OutcomeCode::kUnknownModel:
      return 404;
    case OutcomeCode::kNoBucket:
      return 422;
    case OutcomeCode::kOverloaded:
      return 429;
    case OutcomeCode::kDraining:
      return 503;
    case OutcomeCode::kFailed:
      return 500;
  }
  return 500;
}

constexpr double kMaxSloMs = 1e7;

// A validated inference request.
struct InferRequest {
  std::string model;  // canonical
  int input = 0;
  double slo_ms = 0;
};

// Parses and checks the body of POST /v1/infer; the error says which field and what to send.
absl::StatusOr<InferRequest> ParseInfer(const std::string& body,
                                        const models::ModelRegistry& registry,
                                        const std::map<std::string, double>& default_slo_ms) {
  constexpr char kShape[] = R"(send {"model": "resnet50", "input": 224, "slo_ms": 100})";
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(fmt::format("body: not a JSON object; {}", kShape));
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "model" && key != "input" && key != "slo_ms") {
      return absl::InvalidArgumentError(
          fmt::format("{}: unknown field (known: model, input, slo_ms)", key));
    }
  }
  if (!j.contains("model") || !j["model"].is_string()) {
    return absl::InvalidArgumentError(fmt::format("model: a model name is required; {}", kShape));
  }
  InferRequest r;
  absl::StatusOr<const models::ModelInfo*> info = registry.Find(j["model"].get<std::string>());
  if (!info.ok()) return absl::NotFoundError(std::string(info.status().message()));
  r.model = (*info)->name;
  if (!j.contains("input") || !j["input"].is_number_integer() || j["input"].get<int64_t>() < 1 ||
      j["input"].get<int64_t>() > 1'000'000'000) {
    return absl::InvalidArgumentError(
        fmt::format("input: an integer input size >= 1 is required (image side or sequence "
                    "length); {}",
                    kShape));
  }
  r.input = j["input"].get<int>();
  if (j.contains("slo_ms")) {
    if (!j["slo_ms"].is_number() || !(j["slo_ms"].get<double>() > 0) ||
        !std::isfinite(j["slo_ms"].get<double>())) {
      return absl::InvalidArgumentError("slo_ms: must be a number of milliseconds > 0");
    }
    r.slo_ms = j["slo_ms"].get<double>();
    if (r.slo_ms > kMaxSloMs) {
      return absl::InvalidArgumentError(
          fmt::format("slo_ms: at most {} ms (about 2.8 hours), got {}", kMaxSloMs, r.slo_ms));
    }
  } else if (auto it = default_slo_ms.find(r.model); it != default_slo_ms.end()) {
    r.slo_ms = it->second;
  } else {
    return absl::InvalidArgumentError(
        fmt::format("slo_ms: required for {} (the server has no default SLO for it: start it with "
                    "--workload to give defaults)",
                    r.model));
  }
  return r;
}

nlohmann::ordered_json OutcomeJson(const InferRequest& r, const Outcome& o, std::string_view slot) {
  nlohmann::ordered_json j;
  j["model"] = r.model;
  j["input"] = r.input;
  j["slot"] = slot;
  j["batch"] = o.batch;
  j["queue_ms"] = static_cast<double>(o.queue_ns) / 1e6;
  j["latency_ms"] = static_cast<double>(o.latency_ns) / 1e6;
  j["within_slo"] = o.within_slo;
  return j;
}

}  // namespace

absl::Status HttpOptions::Validate() const {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(fmt::format("--port: must be 0..65535, got {}", port));
  }
  if (threads < 1 || threads > 100'000) {
    return absl::InvalidArgumentError(fmt::format("--threads: must be 1..100000, got {}", threads));
  }
  if (host.empty()) return absl::InvalidArgumentError("--host: must not be empty");
  return absl::OkStatus();
}

HttpServer::HttpServer(Scheduler* scheduler, const models::ModelRegistry* registry,
                       std::map<std::string, double> default_slo_ms, const HttpOptions& options)
    : scheduler_(scheduler),
      registry_(registry),
      default_slo_ms_(std::move(default_slo_ms)),
      options_(options),
      server_(std::make_unique<httplib::Server>()) {}

HttpServer::~HttpServer() = default;

absl::Status HttpServer::Bind() {
  RETURN_IF_ERROR(options_.Validate());
  int threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Debian's cpp-httplib listens with a backlog of 5, too short for a burst of new connections
  // (the kernel then drops them and clients see resets): note the socket, listen again below.
  // Also: SO_REUSEADDR only. cpp-httplib's default adds SO_REUSEPORT, with which a second server
  // on the same port starts silently and takes half the connections.
  server_->set_socket_options([this](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = sock;
  });
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_max_count(1'000'000);
  server_->set_keep_alive_timeout(5);  // an idle connection delays shutdown up to this long
  server_->set_payload_max_length(64 * 1024);
  Route();
  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.host);
    if (port_ < 0) port_ = 0;
  } else if (server_->bind_to_port(options_.host, options_.port)) {
    port_ = options_.port;
  }
  if (port_ != 0 && (listen_fd_ < 0 || ::listen(listen_fd_, SOMAXCONN) != 0)) {
    return absl::UnavailableError(
        fmt::format("cannot listen on {}:{} with a longer backlog", options_.host, port_));
  }
  if (port_ == 0) {
    return absl::UnavailableError(fmt::format(
        "cannot listen on {}:{} (in use, or not allowed); choose another --port or --host",
        options_.host, options_.port));
  }
  return absl::OkStatus();
}

void HttpServer::Serve() {
  if (shutting_down_) return;
  server_->listen_after_bind();
}

// The listening socket is shut down as well as stopped: cpp-httplib's stop() does nothing until
// its accept loop has started, and a shut-down socket ends that loop whenever it starts.
void HttpServer::Shutdown() {
  if (shutting_down_.exchange(true)) return;
  scheduler_->Drain();
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  server_->stop();
}

void HttpServer::Route() {
  server_->Post("/v1/infer", [this](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<InferRequest> r = ParseInfer(req.body, *registry_, default_slo_ms_);
    if (!r.ok()) {
      SendError(res, absl::IsNotFound(r.status()) ? 404 : 400, std::string(r.status().message()));
      return;
    }
    auto promise = std::make_shared<std::promise<Outcome>>();
    std::future<Outcome> future = promise->get_future();
    scheduler_->Submit(r->model, r->input, r->slo_ms,
                       [promise](const Outcome& o) { promise->set_value(o); });
    Outcome o = future.get();
    if (o.code != OutcomeCode::kOk) {
      SendError(res, HttpCode(o.code), o.message);
      return;
    }
    res.set_content(Dump(OutcomeJson(*r, o, scheduler_->SlotName(o.slot))), "application/json");
  });
  server_->Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    SchedulerSnapshot snapshot = scheduler_->Snapshot();
    nlohmann::ordered_json j;
    j["status"] = snapshot.draining ? "draining" : "ok";
    j["backend"] = scheduler_->backend_name();
    j["models"] = scheduler_->Models();
    res.status = snapshot.draining ? 503 : 200;
    res.set_content(Dump(j), "application/json");
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(PrometheusText(scheduler_->Snapshot(), scheduler_->backend_name()),
                    "text/plain; version=0.0.4");
  });
  server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404 || res.status == 405) {
      SendError(res, res.status,
                fmt::format("{} {}: no such endpoint (POST /v1/infer, GET /health, GET /metrics)",
                            req.method, req.path));
    } else if (res.status == 413) {
      SendError(res, res.status, "the request body is too large (at most 64 KiB)");
    } else {
      SendError(res, res.status, fmt::format("{} {}: HTTP {}", req.method, req.path, res.status));
    }
  });
}

std::string PrometheusText(const SchedulerSnapshot& s, std::string_view backend) {
  std::string out;
  auto family = [&](std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  family("tessera_requests_total", "counter", "Requests by model and outcome.");
  for (const SchedulerSnapshot::Model& m : s.models) {
    for (auto [outcome, n] : {std::pair<const char*, int64_t>{"accepted", m.accepted},
                              {"served", m.served},
                              {"within_slo", m.within_slo},
                              {"failed", m.failed},
                              {"no_bucket", m.no_bucket},
                              {"overloaded", m.overloaded},
                              {"draining", m.draining}}) {
      out += fmt::format("tessera_requests_total{{model=\"{}\",outcome=\"{}\"}} {}\n", m.model,
                         outcome, n);
    }
  }
  family("tessera_unknown_model_requests_total", "counter",
         "Requests for models the plan does not serve.");
  out += fmt::format("tessera_unknown_model_requests_total {}\n", s.unknown_model);
  family("tessera_request_latency_seconds", "summary",
         "Arrival to completion of served requests, at the server.");
  for (const SchedulerSnapshot::Model& m : s.models) {
    for (double q : {0.5, 0.9, 0.99}) {
      out += fmt::format("tessera_request_latency_seconds{{model=\"{}\",quantile=\"{}\"}} {:.6f}\n",
                         m.model, q, m.latency.Quantile(q) / 1e9);
    }
    out += fmt::format("tessera_request_latency_seconds_sum{{model=\"{}\"}} {:.6f}\n", m.model,
                       m.latency.Mean() * static_cast<double>(m.latency.count()) / 1e9);
    out += fmt::format("tessera_request_latency_seconds_count{{model=\"{}\"}} {}\n", m.model,
                       m.latency.count());
  }
  auto per_slot = [&](std::string_view name, std::string_view type, std::string_view help,
                      auto value) {
    family(name, type, help);
    for (const SchedulerSnapshot::Slot& slot : s.slots) {
      out += fmt::format("{}{{slot=\"{}\",model=\"{}\"}} {}\n", name, slot.where, slot.model,
                         value(slot));
    }
  };
  using Slot = SchedulerSnapshot::Slot;
  per_slot("tessera_queue_length", "gauge", "Requests waiting per assignment.",
           [](const Slot& x) { return x.queued; });
  per_slot("tessera_capacity_rps", "gauge", "Full-batch throughput per assignment.",
           [](const Slot& x) { return fmt::format("{:.3f}", x.capacity_rps); });
  per_slot("tessera_in_flight", "gauge", "Requests executing per assignment.",
           [](const Slot& x) { return x.in_flight; });
  per_slot("tessera_batches_total", "counter", "Batches run per assignment.",
           [](const Slot& x) { return x.batches; });
  per_slot("tessera_batch_requests_total", "counter", "Requests run in batches per assignment.",
           [](const Slot& x) { return x.requests; });
  per_slot("tessera_busy_seconds_total", "counter", "Executor-seconds in the backend.",
           [](const Slot& x) { return fmt::format("{:.6f}", x.busy_s); });
  family("tessera_outstanding_requests", "gauge", "Accepted and not yet answered.");
  out += fmt::format("tessera_outstanding_requests {}\n", s.outstanding);
  family("tessera_draining", "gauge", "1 while the server drains for shutdown.");
  out += fmt::format("tessera_draining {}\n", s.draining ? 1 : 0);
  family("tessera_uptime_seconds", "gauge", "Seconds since the server started.");
  out += fmt::format("tessera_uptime_seconds{{backend=\"{}\"}} {:.3f}\n", backend, s.uptime_s);
  return out;
}

}  // namespace tessera::serving
