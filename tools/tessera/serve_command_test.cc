// `tessera serve` and `tessera load` from the command line: flag and input errors, and a short run
// of both against each other on the bundled A100 example.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cli.h"
#include "cli_test_util.h"
#include "fmt/core.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace tessera::cli {
namespace {

using testing::Data;
using ::testing::HasSubstr;
using testing::Tessera;
using testing::WriteFile;

// A loopback port that was free a moment ago.
int FreePort() {
  int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t length = sizeof(addr);
  ::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(sock);
  return ntohs(addr.sin_port);
}

std::vector<std::string> ServeArgs(int port, double stop_after_s) {
  return {"serve",
          "--plan",
          Data("examples/a100-mig.plan.yaml"),
          "--profiles",
          Data("profiles/a100-parvagpu.csv"),
          "--workload",
          Data("examples/a100-mig.workload.yaml"),
          "--port",
          std::to_string(port),
          "--stop-after",
          std::to_string(stop_after_s)};
}

bool WaitForHealth(int port) {
  httplib::Client client("127.0.0.1", port);
  for (int i = 0; i < 100; ++i) {
    if (auto res = client.Get("/health"); res && res->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(ServeCommandTest, ServesAndLoadReportsFromRealAnswers) {
  int port = FreePort();
  testing::Result served;
  std::thread server([&] { served = Tessera(ServeArgs(port, 6)); });
  ASSERT_TRUE(WaitForHealth(port));
  httplib::Client client("127.0.0.1", port);
  // An alias, a default SLO from --workload.
  auto ok = client.Post("/v1/infer", R"({"model": "bert-base", "input": 100})", "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_THAT(ok->body, HasSubstr(R"("model":"bert_base")"));
  for (auto [body, status, says] :
       {std::tuple<const char*, int, const char*>{"{", 400, "not a JSON object"},
        {R"({"model": "resnet50"})", 400, "input"},
        {R"({"model": "resnet50", "input": 224, "slo": 5})", 400, "slo: unknown field"},
        {R"({"model": "resnet50", "input": 224, "slo_ms": "fast"})", 400, "slo_ms"},
        {R"({"model": "vgg16", "input": 224})", 400, "slo_ms: required for vgg16"},
        {R"({"model": "nope", "input": 224})", 404, "unknown model 'nope'"},
        {R"({"model": "resnet50", "input": 512})", 422, "no bucket of resnet50"}}) {
    auto res = client.Post("/v1/infer", body, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status) << body;
    EXPECT_THAT(res->body, HasSubstr(says)) << body;
  }
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body,
              HasSubstr("tessera_requests_total{model=\"bert_base\",outcome=\"served\"} 1"));
  testing::Result load =
      Tessera({"load", "--workload", Data("examples/a100-mig.workload.yaml"), "--target",
               "http://127.0.0.1:" + std::to_string(port), "--duration", "2", "--json"});
  ASSERT_EQ(load.code, 0) << load.err;
  nlohmann::json j = nlohmann::json::parse(load.out);
  EXPECT_GT(j["http"]["200"].get<int>(), 1000);
  EXPECT_EQ(j["transport_errors"], 0);
  EXPECT_EQ(j["command_line"][1], "load");
  server.join();
  EXPECT_EQ(served.code, 0) << served.err;
  EXPECT_THAT(served.out, HasSubstr("backend emulated, listening on http://127.0.0.1:"));
  EXPECT_THAT(served.out, HasSubstr("stopped;"));
  EXPECT_THAT(served.err, HasSubstr("draining"));
}

TEST(ServeCommandTest, APortInUseIsAnError) {
  int port = FreePort();
  testing::Result first;
  std::thread server([&] { first = Tessera(ServeArgs(port, 2)); });
  ASSERT_TRUE(WaitForHealth(port));
  testing::Result second = Tessera(ServeArgs(port, 1));
  EXPECT_EQ(second.code, 1);
  EXPECT_THAT(second.err, HasSubstr(fmt::format("cannot listen on 127.0.0.1:{}", port)));
  server.join();
  EXPECT_EQ(first.code, 0) << first.err;
}

TEST(ServeCommandTest, BadInputsAreClearErrors) {
  std::vector<std::string> args = ServeArgs(FreePort(), 1);
  args.insert(args.end(), {"--backend", "tpu"});
  testing::Result r = Tessera(args);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--backend: 'tpu' is not a backend (emulated, cuda)"));

  std::string bad_plan = WriteFile("bad.plan.yaml", R"(gpus:
  - index: 0
    gpu: A100-SXM4-80GB
    partitions:
      - partition: 1g.10gb
        start: 0
        assignments:
          - {model: resnet50, input_max: 224, batch: 999}
)");
  args = ServeArgs(FreePort(), 1);
  args[2] = bad_plan;
  r = Tessera(args);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("the plan is not valid"));

  r = Tessera(
      {"load", "--workload", Data("examples/a100-mig.workload.yaml"), "--target", "localhost:80"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--target: 'localhost:80' is not http://host:port"));
  r = Tessera({"load", "--workload", Data("examples/a100-mig.workload.yaml"), "--target",
               "http://127.0.0.1:" + std::to_string(FreePort()), "--duration", "1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("is `tessera serve` running there?"));
  r = Tessera({"load", "--workload", Data("examples/a100-mig.workload.yaml"), "--target",
               "http://127.0.0.1:1", "--warmup", "5", "--duration", "2"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--warmup: must be in [0, duration)"));
}

}  // namespace
}  // namespace tessera::cli
