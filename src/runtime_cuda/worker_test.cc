#include "tessera/runtime_cuda/worker.h"

#include <sys/socket.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime_cuda/testing/has_device.h"
#include "tessera/base/status_matchers.h"

namespace tessera::runtime_cuda {
namespace {

using ::tessera::testing::IsOkAndHolds;
using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

TEST(WorkerProtocolTest, RequestsRoundTrip) {
  for (const WorkerRequest& r : {WorkerRequest::Prepare("resnet50", 224, {1, 2, 8}),
                                 WorkerRequest::Run("bert_base", 128, 4), WorkerRequest::Quit()}) {
    EXPECT_THAT(DecodeRequest(EncodeRequest(r)), IsOkAndHolds(r)) << EncodeRequest(r);
  }
  EXPECT_EQ(EncodeRequest(WorkerRequest::Prepare("gpt2", 64, {1, 16})), "prepare gpt2 64 1,16");
  EXPECT_EQ(EncodeRequest(WorkerRequest::Run("gpt2", 64, 16)), "run gpt2 64 16");
}

TEST(WorkerProtocolTest, BadRequestsAreRefused) {
  for (const char* line : {"", "hello", "run resnet50 224", "run resnet50 224 1,2",
                           "prepare resnet50 0 1", "prepare resnet50 224 1,x", "run a b c"}) {
    EXPECT_THAT(DecodeRequest(line), StatusIs(absl::StatusCode::kInvalidArgument)) << line;
  }
}

TEST(WorkerProtocolTest, RepliesCarryValuesAndStatusCodes) {
  EXPECT_THAT(DecodeReply(EncodeReply(1234.5)), IsOkAndHolds(1234.5));
  absl::Status oom = absl::ResourceExhaustedError("cudaMalloc: out of\nmemory");
  EXPECT_EQ(EncodeReply(oom), "error 8 cudaMalloc: out of memory");
  EXPECT_THAT(DecodeReply(EncodeReply(oom)),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("out of memory")));
  EXPECT_THAT(DecodeReply("garbage"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(DecodeReply("error 99 x"), StatusIs(absl::StatusCode::kInternal));
}

class FakeHandler : public ChannelHandler {
 public:
  absl::StatusOr<double> Prepare(const std::string& model, int input,
                                 const std::vector<int>& batches) override {
    if (model != "resnet50") return absl::InvalidArgumentError("unknown model " + model);
    return 1000.0 * static_cast<double>(batches.size());
  }
  absl::StatusOr<double> Run(const std::string& model, int input, int batch) override {
    return 10.0 * batch;
  }
};

TEST(WorkerProtocolTest, ServeChannelAnswersUntilQuit) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::thread server([fd = fds[1]] {
    LineChannel channel(fd);
    FakeHandler handler;
    EXPECT_OK(ServeChannel(channel, handler));
  });
  LineChannel client(fds[0]);
  std::string line;
  auto ask = [&](const std::string& request) {
    EXPECT_OK(client.WriteLine(request));
    EXPECT_THAT(client.ReadLine(line), IsOkAndHolds(true));
    return line;
  };
  EXPECT_EQ(ask("prepare resnet50 224 1,2"), "ok 2000");
  EXPECT_EQ(ask("run resnet50 224 2"), "ok 20");
  EXPECT_THAT(ask("prepare nope 224 1"), HasSubstr("error 3 unknown model nope"));
  EXPECT_THAT(ask("bogus"), HasSubstr("error 3 worker request 'bogus'"));
  EXPECT_EQ(ask("quit"), "ok 0");
  server.join();
}

// A worker stand-in written in sh: answers every line of channel 0 (fd 3) with "ok 7" until quit.
constexpr char kScript[] =
    "while read -r l <&3; do [ \"$l\" = quit ] && exit 0; echo 'ok 7' >&3; done";

TEST(WorkerProcessTest, TalksOverItsChannels) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<WorkerProcess> w,
      WorkerProcess::Spawn({"/bin/sh", "-c", kScript}, {{"CUDA_VISIBLE_DEVICES", "MIG-x"}}, 2));
  EXPECT_GT(w->pid(), 0);
  EXPECT_THAT(w->Call(0, WorkerRequest::Run("resnet50", 224, 1)), IsOkAndHolds(7));
  EXPECT_THAT(w->Call(0, WorkerRequest::Prepare("resnet50", 224, {1})), IsOkAndHolds(7));
  w->Stop();
  w->Stop();  // idempotent
}

TEST(WorkerProcessTest, ADeadWorkerIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WorkerProcess> w,
                       WorkerProcess::Spawn({"/bin/sh", "-c", "exit 0"}, {}, 1));
  EXPECT_THAT(w->Call(0, WorkerRequest::Run("resnet50", 224, 1)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("stopped answering")));
}

TEST(WorkerProcessTest, AMissingProgramIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WorkerProcess> w,
                       WorkerProcess::Spawn({"/nonexistent/tessera", "worker"}, {}, 1));
  EXPECT_THAT(w->Call(0, WorkerRequest::Quit()), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(EngineHandlerTest, WithoutADeviceRepliesUnavailable) {
  if (testing::HasCudaDevice()) GTEST_SKIP() << "a CUDA device is present";
  std::unique_ptr<ChannelHandler> handler = MakeEngineHandler(1);
  EXPECT_THAT(handler->Run("resnet50", 224, 1), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(handler->Prepare("resnet50", 224, {1}), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(WorkerProcessTest, BadArguments) {
  EXPECT_THAT(WorkerProcess::Spawn({}, {}, 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(WorkerProcess::Spawn({"/bin/true"}, {}, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace tessera::runtime_cuda
