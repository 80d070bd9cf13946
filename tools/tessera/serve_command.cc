// `tessera serve`: an HTTP/JSON inference server for a plan, on the emulated backend (any
// machine) or the CUDA engine (a GPU machine, where runtime_cuda is built).
#include <cmath>
#include <csignal>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "cli.h"
#include "fmt/core.h"
#include "interference_flags.h"
#include "tessera/base/status.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/plan/plan.h"
#include "tessera/serving/emulated_backend.h"
#include "tessera/serving/http_server.h"
#include "tessera/serving/scheduler.h"
#include "tessera/workload/workload.h"
#if TESSERA_HAVE_CUDA
#include "tessera/runtime_cuda/cuda_backend.h"
#endif

namespace tessera::cli {
namespace {

struct ServeOptions {
  std::string plan, profiles, workload;
  std::string backend = "emulated";
  std::string interference = "none";
  double noise_cv = 0;
  uint64_t seed = 1;
  double stop_after_s = 0;  // 0: until SIGINT/SIGTERM
  serving::SchedulerOptions scheduler;
  serving::HttpOptions http;
};

struct Inputs {
  hw::Catalog catalog;
  models::ModelRegistry registry;
  perf::ProfileTable profiles;
  plan::Plan plan;
  std::map<std::string, double> default_slo_ms;
};

absl::StatusOr<std::unique_ptr<Inputs>> LoadInputs(const ServeOptions& o) {
  auto in = std::make_unique<Inputs>();
  ASSIGN_OR_RETURN(in->catalog, hw::LoadDefaultCatalog());
  ASSIGN_OR_RETURN(in->registry, models::LoadDefaultModelRegistry());
  ASSIGN_OR_RETURN(perf::ProfileTable measured,
                   perf::LoadProfileCsv(o.profiles, in->catalog, in->registry));
  ASSIGN_OR_RETURN(in->profiles, perf::WithMigStandIns(std::move(measured), in->catalog));
  ASSIGN_OR_RETURN(in->plan, plan::LoadPlanFile(o.plan));
  std::optional<workload::Workload> workload;
  if (!o.workload.empty()) {
    ASSIGN_OR_RETURN(workload, workload::LoadWorkloadFile(o.workload, in->registry));
    for (const workload::WorkloadModel& m : workload->models)
      in->default_slo_ms[m.model] = m.slo_ms;
  }
  absl::Status valid = plan::ValidatePlan(
      in->plan, {&in->catalog, &in->profiles, workload ? &*workload : nullptr, &in->registry});
  if (!valid.ok()) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: the plan is not valid; fix it first (tessera validate shows the same):\n{}", o.plan,
        std::string(valid.message())));
  }
  return in;
}

absl::StatusOr<std::unique_ptr<serving::Backend>> MakeBackend(const ServeOptions& o,
                                                              const Inputs& in) {
  if (o.backend == "emulated") {
    serving::EmulatedOptions emulated;
    emulated.noise_cv = o.noise_cv;
    emulated.seed = o.seed;
    if (o.interference != "none") {
      if (in.plan.gpus.empty())
        return absl::InvalidArgumentError(fmt::format("{}: no GPUs", o.plan));
      ASSIGN_OR_RETURN(const hw::GpuModel* gpu, in.catalog.Find(in.plan.gpus[0].gpu));
      ASSIGN_OR_RETURN(emulated.interference,
                       MakeInterferenceModel(o.interference, "--interference", true, *gpu,
                                             in.catalog, in.registry, &in.profiles));
    }
    return serving::MakeEmulatedBackend(in.plan, in.profiles, &in.catalog, emulated);
  }
  if (o.backend == "cuda") {
#if TESSERA_HAVE_CUDA
    runtime_cuda::CudaBackendOptions cuda;
    cuda.seed = o.seed;
    return runtime_cuda::MakeCudaBackend(in.plan, cuda);
#else
    return absl::FailedPreconditionError(
        "--backend cuda: this tessera was built without the CUDA runtime (runtime_cuda); rebuild "
        "on a machine with the CUDA 13 toolkit, or use --backend emulated");
#endif
  }
  return absl::InvalidArgumentError(
      fmt::format("--backend: '{}' is not a backend (emulated, cuda)", o.backend));
}

// SIGINT and SIGTERM blocked in this thread and every thread it makes while alive (so that one
// thread can wait for them with sigwait); on destruction any still pending are consumed before the
// mask is restored, so a second Ctrl-C during drain does not kill the process afterwards.
class ShutdownSignals {
 public:
  ShutdownSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  }
  ~ShutdownSignals() {
    timespec now{0, 0};
    while (sigtimedwait(&set_, nullptr, &now) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  // Waits for a signal, or for `limit_s` seconds when > 0; true when a signal came.
  bool Wait(double limit_s) const {
    if (limit_s > 0) {
      timespec limit{static_cast<time_t>(limit_s),
                     static_cast<long>((limit_s - std::floor(limit_s)) * 1e9)};
      return sigtimedwait(&set_, nullptr, &limit) > 0;
    }
    int signal = 0;
    return sigwait(&set_, &signal) == 0;
  }

 private:
  sigset_t set_, previous_;
};

std::string StopLine(const serving::SchedulerSnapshot& end) {
  int64_t accepted = 0, answered = 0, refused = 0;
  for (const auto& m : end.models) {
    accepted += m.accepted;
    answered += m.served + m.failed;
    refused += m.overloaded + m.no_bucket + m.draining;
  }
  return fmt::format(
      "tessera serve: stopped; {} accepted, {} answered, {} refused, {} unknown model\n", accepted,
      answered, refused, end.unknown_model);
}

absl::Status RunServe(const ServeOptions& o, std::ostream& out, std::ostream& err) {
  if (!(o.stop_after_s >= 0)) {
    return absl::InvalidArgumentError("--stop-after: must be >= 0 seconds (0: until a signal)");
  }
  // First, before the backend makes threads (CUDA's among them) that would otherwise take them.
  ShutdownSignals signals;
  ASSIGN_OR_RETURN(std::unique_ptr<Inputs> in, LoadInputs(o));
  ASSIGN_OR_RETURN(std::unique_ptr<serving::Backend> backend, MakeBackend(o, *in));
  ASSIGN_OR_RETURN(sim::ExecutionTimes times, sim::ExecutionTimes::Build(in->plan, in->profiles));
  int slots = times.slots();
  serving::Scheduler scheduler(in->plan, std::move(times), backend.get(), o.scheduler);
  RETURN_IF_ERROR(scheduler.Start(&in->catalog));
  serving::HttpServer server(&scheduler, &in->registry, in->default_slo_ms, o.http);
  RETURN_IF_ERROR(server.Bind());
  out << fmt::format(
             "tessera serve: {} ({} assignments), backend {}, listening on http://{}:{} "
             "(POST /v1/infer, GET /health, GET /metrics); SIGINT/SIGTERM drains and stops",
             in->plan.name.empty() ? o.plan : in->plan.name, slots, backend->name(), o.http.host,
             server.port())
      << std::endl;
  std::thread waiter([&] {
    signals.Wait(o.stop_after_s);
    err << fmt::format("tessera serve: draining ({} requests outstanding)\n",
                       scheduler.Snapshot().outstanding);
    server.Shutdown();
  });
  server.Serve();
  // Serve() ends at Shutdown(), or by itself if listening failed: then wake the waiter.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  scheduler.Stop();
  out << StopLine(scheduler.Snapshot());
  return absl::OkStatus();
}

}  // namespace

void AddServeCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Serve a plan over HTTP/JSON: per-assignment dynamic batching, bounded queues (429), "
      "health, Prometheus metrics, graceful drain");
  cmd->add_option("--plan", o->plan, "Plan file (YAML or JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--profiles", o->profiles, "Profile table (canonical CSV): batch times")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--backend", o->backend, "emulated (sleeps the simulator's time) or cuda")
      ->capture_default_str();
  cmd->add_option("--workload", o->workload,
                  "Workload file: default SLOs for requests without slo_ms, and plan coverage")
      ->check(CLI::ExistingFile);
  cmd->add_option("--host", o->http.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->http.port, "Port (0: any free one)")->capture_default_str();
  cmd->add_option("--threads", o->http.threads, "Connections served at once")
      ->capture_default_str();
  cmd->add_option("--batch-timeout-ms", o->scheduler.batch_timeout_ms,
                  "Longest wait for a batch to fill (default: one full-batch time; 0: none)");
  cmd->add_option("--queue-slos", o->scheduler.queue_slos,
                  "Refuse (429) a request whose queue holds more than this many of its SLOs of "
                  "work")
      ->capture_default_str();
  cmd->add_option("--interference", o->interference,
                  "emulated: slow co-running SM partitions (none, constant:F, fitted, fitted:PATH)")
      ->capture_default_str();
  cmd->add_option("--noise-cv", o->noise_cv, "emulated: execution-time noise (CV)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the noise (emulated) or the weights (cuda)")
      ->capture_default_str();
  cmd->add_option("--stop-after", o->stop_after_s,
                  "Drain and stop after this many seconds (0: at SIGINT/SIGTERM)")
      ->capture_default_str();
  cmd->callback(Callback([o, &out, &err] { return RunServe(*o, out, err); }, err, exit_code));
}

}  // namespace tessera::cli
