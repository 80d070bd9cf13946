// The worker process's side: an Engine per channel (tessera/runtime_cuda/worker.h).
#include <fcntl.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fmt/core.h"
#include "tessera/base/status.h"
#include "tessera/runtime_cuda/engine.h"
#include "tessera/runtime_cuda/worker.h"

namespace tessera::runtime_cuda {
namespace {

class EngineHandler : public ChannelHandler {
 public:
  explicit EngineHandler(uint64_t seed) : seed_(seed) {}

  absl::StatusOr<double> Prepare(const std::string& model, int input,
                                 const std::vector<int>& batches) override {
    if (engine_ == nullptr) {
      EngineOptions options;
      options.seed = seed_;
      ASSIGN_OR_RETURN(engine_, Engine::Create(options));
    }
    for (int batch : batches) RETURN_IF_ERROR(engine_->Prepare({model, batch, input}));
    return static_cast<double>(engine_->MemoryBytes());
  }

  absl::StatusOr<double> Run(const std::string& model, int input, int batch) override {
    if (engine_ == nullptr) {
      return absl::FailedPreconditionError("run before prepare on this worker channel");
    }
    return engine_->Run({model, batch, input});
  }

 private:
  uint64_t seed_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace

std::unique_ptr<ChannelHandler> MakeEngineHandler(uint64_t seed) {
  return std::make_unique<EngineHandler>(seed);
}

absl::Status RunWorker(int channels, uint64_t seed) {
  if (channels < 1) return absl::InvalidArgumentError("--channels must be >= 1");
  for (int c = 0; c < channels; ++c) {
    if (fcntl(3 + c, F_GETFD) < 0) {
      return absl::FailedPreconditionError(fmt::format(
          "`tessera worker` serves the cuda backend, which starts it with its channels on file "
          "descriptors 3..; fd {} is not open",
          3 + c));
    }
  }
  std::vector<absl::Status> results(channels);
  std::vector<std::thread> threads;
  for (int c = 0; c < channels; ++c) {
    threads.emplace_back([c, seed, &results] {
      LineChannel channel(3 + c);
      std::unique_ptr<ChannelHandler> handler = MakeEngineHandler(seed);
      results[c] = ServeChannel(channel, *handler);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int c = 0; c < channels; ++c) {
    if (!results[c].ok()) {
      return absl::Status(results[c].code(), fmt::format("worker channel {}: {}", c,
                                                         std::string(results[c].message())));
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::runtime_cuda
