// `tessera profiles measure` and `tessera worker`: flags, --list parsing, and the error on a
// machine that cannot run CUDA (no runtime_cuda in this build, or no device).
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#if TESSERA_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace tessera::cli {
namespace {

using ::testing::HasSubstr;
using testing::Result;
using testing::Tessera;
using testing::WriteFile;

bool HasCudaDevice() {
#if TESSERA_HAVE_CUDA
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
#else
  return false;
#endif
}

// What a valid request ends with here: it cannot run CUDA.
void ExpectCannotRunCuda(const Result& r) {
  EXPECT_EQ(r.code, 1) << r.err;
#if TESSERA_HAVE_CUDA
  EXPECT_THAT(r.err, HasSubstr("NVIDIA GPU"));
#else
  EXPECT_THAT(r.err, HasSubstr("this tessera was built without the CUDA runtime (runtime_cuda): "
                               "rebuild on a machine with the CUDA 13 toolkit"));
#endif
}

Result Measure(std::vector<std::string> flags) {
  flags.insert(flags.begin(), {"profiles", "measure"});
  return Tessera(flags);
}

void ExpectError(const Result& r, const std::string& message) {
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(message));
}

TEST(MeasureCommandTest, AValidGridCannotRunHere) {
  if (HasCudaDevice()) GTEST_SKIP() << "a CUDA device is present";
  ExpectCannotRunCuda(Measure({"--models", "resnet50,bert-base", "--partitions", "sm:16,whole",
                               "--batches", "1,2", "-o", ::testing::TempDir() + "/p.csv"}));
}

TEST(MeasureCommandTest, ValidatesEveryFlag) {
  std::string o = ::testing::TempDir() + "/p.csv";
  EXPECT_EQ(Measure({"--models", "resnet50"}).code, 1);  // -o is required
  ExpectError(Measure({"--models", "resnet50", "-o", o}), "--models, --partitions and --batches");
  ExpectError(Measure({"--models", "nope", "--partitions", "sm:16", "--batches", "1", "-o", o}),
              "nope");
  ExpectError(
      Measure({"--models", "densenet121", "--partitions", "sm:16", "--batches", "1", "-o", o}),
      "the CUDA engine does not run it");
  ExpectError(Measure({"--models", "resnet50", "--partitions", "sm:x", "--batches", "1", "-o", o}),
              "partition 'sm:x'");
  ExpectError(
      Measure({"--models", "resnet50", "--partitions", "mps:40", "--batches", "1", "-o", o}),
      "MPS shares are not measured");
  ExpectError(
      Measure({"--models", "resnet50", "--partitions", "sm:16", "--batches", "1,0", "-o", o}),
      "--batches '0'");
  ExpectError(Measure({"--models", "bert_base", "--partitions", "sm:16", "--batches", "1",
                       "--inputs", "1024", "-o", o}),
              "above bert_base's maximum 512");
  ExpectError(Measure({"--models", "resnet50", "--partitions", "sm:16", "--batches", "1",
                       "--repeats", "0", "-o", o}),
              "--repeats");
  ExpectError(Measure({"--models", "resnet50", "--partitions", "sm:16", "--batches", "1", "--gpu",
                       "nosuchgpu", "-o", o}),
              "nosuchgpu");
}

TEST(MeasureCommandTest, ConcurrentTakesTwoSmPartitions) {
  std::string o = ::testing::TempDir() + "/c.csv";
  ExpectError(Measure({"--concurrent", "--models", "resnet50", "--partitions", "sm:64,sm:64",
                       "--batches", "8", "-o", o}),
              "--concurrent takes two --models");
  ExpectError(Measure({"--concurrent", "--models", "resnet50,bert_base", "--partitions",
                       "sm:64,whole", "--batches", "8", "-o", o}),
              "partition whole is not sm:N");
  if (HasCudaDevice()) GTEST_SKIP() << "a CUDA device is present";
  ExpectCannotRunCuda(Measure({"--concurrent", "--models", "resnet50,bert_base", "--partitions",
                               "sm:64,sm:64", "--batches", "8", "-o", o}));
}

constexpr char kHeader[] = "gpu,partition,model,input,batch,procs,phase,round,reason\n";

TEST(MeasureCommandTest, ReadsTheListProfilesPlanWrites) {
  if (HasCudaDevice()) GTEST_SKIP() << "a CUDA device is present";
  std::string list = WriteFile(
      "configs.csv", std::string(kHeader) +
                         "H100-SXM5-80GB,sm:64,bert_base,128,8,1,space-filling,0,central\n"
                         "h100,sm:16,resnet50,224,4,1,uncertainty,1,\"uncertain, 0.2\"\n");
  ExpectCannotRunCuda(Measure({"--list", list, "-o", ::testing::TempDir() + "/p.csv"}));
}

TEST(MeasureCommandTest, ListErrorsNameFileAndLine) {
  std::string o = ::testing::TempDir() + "/p.csv";
  struct Case {
    std::string row, message;
  };
  for (const Case& c : std::vector<Case>{
           {"H100-SXM5-80GB,sm:abc,resnet50,224,1,1,x,0,r\n", "bad.csv:3: column partition"},
           {"H100-SXM5-80GB,sm:16,nope,224,1,1,x,0,r\n", "bad.csv:3: column model"},
           {"H100-SXM5-80GB,sm:16,resnet50,0,1,1,x,0,r\n", "bad.csv:3: column input"},
           {"H100-SXM5-80GB,sm:16,resnet50,224,1,2,x,0,r\n", "bad.csv:3: column procs"},
           {"A100-SXM4-80GB,sm:16,resnet50,224,1,1,x,0,r\n", "bad.csv:3: column gpu"},
       }) {
    std::string list = WriteFile(
        "bad.csv",
        std::string(kHeader) + "H100-SXM5-80GB,sm:16,resnet50,224,1,1,space-filling,0,r\n" + c.row);
    ExpectError(Measure({"--list", list, "-o", o}), c.message);
  }
  ExpectError(Measure({"--list", WriteFile("cols.csv", "gpu,partition,model\n"), "-o", o}),
              "cols.csv");
  ExpectError(Measure({"--list", WriteFile("empty.csv", kHeader), "-o", o}), "lists nothing");
  ExpectError(Measure({"--list", ::testing::TempDir() + "/missing.csv", "-o", o}), "missing.csv");
  ExpectError(Measure({"--list", WriteFile("ok.csv", kHeader), "--models", "resnet50", "-o", o}),
              "leave out --models");
}

TEST(WorkerCommandTest, ValidatesChannels) {
  ExpectError(Tessera({"worker", "--channels", "0"}), "--channels must be >= 1");
#if !TESSERA_HAVE_CUDA
  ExpectError(Tessera({"worker"}), "built without the CUDA runtime");
#endif
}

TEST(CheckEngineCommandTest, SaysWhatItNeeds) {
  ExpectError(Tessera({"check-engine", "--batch", "0"}), "--batch: must be 1..64");
#if TESSERA_HAVE_CUDA
  ExpectError(Tessera({"check-engine", "--models", "nope"}), "'nope' is not an engine model");
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    ExpectError(Tessera({"check-engine"}), "NVIDIA GPU");
  }
#else
  ExpectError(Tessera({"check-engine"}), "built without the CUDA runtime");
#endif
}

}  // namespace
}  // namespace tessera::cli
