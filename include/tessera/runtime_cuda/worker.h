// tessera/runtime_cuda/worker.h — worker processes for MIG instances: the line protocol, the
// parent's handle on a worker, and the worker's serving loop.
//
// A CUDA process can use only one MIG device, so the CUDA backend serves each MIG instance from a
// process of its own: `tessera worker --channels N` started with CUDA_VISIBLE_DEVICES=MIG-<uuid>.
// The parent talks to it over N channels (one per executor), each a Unix socket pair the worker
// finds at file descriptor 3 + channel. One line per request and per reply:
//   prepare <model> <input> <batch>[,<batch>...]   ->  ok <device bytes the channel's engine holds>
//   run <model> <input> <batch>                    ->  ok <GPU ns of the replay>
//   quit                                           ->  ok 0, then the channel closes
//   any failure                                    ->  error <absl status code number> <message>
// Messages are one line (newlines become spaces). Each channel is served by its own thread with
// its own Engine, so executors of one instance run at once, as `procs` copies do.
//
// Example (parent):
//   ASSIGN_OR_RETURN(auto w, WorkerProcess::Spawn({"/usr/bin/tessera", "worker", "--channels",
//                    "2"}, {{"CUDA_VISIBLE_DEVICES", "MIG-..."}}, /*channels=*/2));
//   ASSIGN_OR_RETURN(double bytes, w->Call(0, WorkerRequest::Prepare("resnet50", 224, {1, 8})));
//   ASSIGN_OR_RETURN(double ns, w->Call(0, WorkerRequest::Run("resnet50", 224, 8)));
//
// Thread safety: Call may run on different channels at once; one channel is used by one thread
// at a time. Destroying a WorkerProcess asks every channel to quit, waits up to 5 s, then kills
// the process (SIGKILL) and reaps it.
#ifndef TESSERA_RUNTIME_CUDA_WORKER_H_
#define TESSERA_RUNTIME_CUDA_WORKER_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tessera::runtime_cuda {

struct WorkerRequest {
  enum class Kind { kPrepare, kRun, kQuit };
  Kind kind = Kind::kQuit;
  std::string model;
  int input = 0;
  std::vector<int> batches;  // prepare: every size to capture; run: exactly one

  static WorkerRequest Prepare(std::string model, int input, std::vector<int> batches);
  static WorkerRequest Run(std::string model, int input, int batch);
  static WorkerRequest Quit();
  bool operator==(const WorkerRequest&) const = default;
};

// One line without its newline. Decode is strict: InvalidArgument names what is wrong.
std::string EncodeRequest(const WorkerRequest& request);
absl::StatusOr<WorkerRequest> DecodeRequest(std::string_view line);
std::string EncodeReply(const absl::StatusOr<double>& reply);
// The reply's value, or the worker's error as a Status of the same code.
absl::StatusOr<double> DecodeReply(std::string_view line);

// A line-oriented view of one socket (or pipe) file descriptor; owns and closes it.
class LineChannel {
 public:
  explicit LineChannel(int fd) : fd_(fd) {}
  ~LineChannel();
  LineChannel(const LineChannel&) = delete;
  LineChannel& operator=(const LineChannel&) = delete;
  // The next line without its newline; false at end of input.
  absl::StatusOr<bool> ReadLine(std::string& line);
  // Writes `line` and a newline (no SIGPIPE on a socket whose peer is gone: an error instead).
  absl::Status WriteLine(std::string_view line);

 private:
  int fd_;
  std::string buffer_;
};

// What a worker channel does for prepare and run; the engine-backed one is MakeEngineHandler.
class ChannelHandler {
 public:
  virtual ~ChannelHandler() = default;
  virtual absl::StatusOr<double> Prepare(const std::string& model, int input,
                                         const std::vector<int>& batches) = 0;
  virtual absl::StatusOr<double> Run(const std::string& model, int input, int batch) = 0;
};

// Serves one channel until quit or end of input: decodes each request, answers it. Returns the
// first I/O error; request errors are replies, not failures of the loop.
absl::Status ServeChannel(LineChannel& channel, ChannelHandler& handler);

// A handler with its own Engine on the process's CUDA device 0 (made at the first prepare).
std::unique_ptr<ChannelHandler> MakeEngineHandler(uint64_t seed);

// The body of `tessera worker`: serves channels 0..channels-1 (fds 3..) on one thread each and
// returns when all have quit.
absl::Status RunWorker(int channels, uint64_t seed);

class WorkerProcess {
 public:
  // Starts argv[0] with `argv` and the parent's environment plus `env` (replacing variables of
  // the same name), with `channels` socket pairs on fds 3.. of the child. Other descriptors of
  // the parent are not inherited.
  static absl::StatusOr<std::unique_ptr<WorkerProcess>> Spawn(
      const std::vector<std::string>& argv,
      const std::vector<std::pair<std::string, std::string>>& env, int channels);
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // Sends `request` on `channel` and waits for the reply. Unavailable when the worker is gone.
  absl::StatusOr<double> Call(int channel, const WorkerRequest& request);
  pid_t pid() const { return pid_; }
  // Asks every channel to quit and reaps the process (killing it after 5 s). Idempotent.
  void Stop();

 private:
  WorkerProcess() = default;
  pid_t pid_ = -1;
  std::string name_;
  std::vector<std::unique_ptr<LineChannel>> channels_;
};

}  // namespace tessera::runtime_cuda

#endif  // TESSERA_RUNTIME_CUDA_WORKER_H_
