// WorkerProcess: the parent's handle on a `tessera worker` (tessera/runtime_cuda/worker.h).
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "fmt/core.h"
#include "tessera/base/status.h"
#include "tessera/runtime_cuda/worker.h"

extern char** environ;

namespace tessera::runtime_cuda {
namespace {

// The parent's environment with `overrides` replacing (or adding) variables.
std::vector<std::string> Environment(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    bool replaced = false;
    for (const auto& [name, value] : overrides) {
      replaced = replaced || entry.rfind(name + "=", 0) == 0;
    }
    if (!replaced) env.push_back(std::move(entry));
  }
  for (const auto& [name, value] : overrides) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// In the child (async-signal-safe calls only): moves the channel ends to fds 3.., closes the
// rest, and execs. Never returns.
[[noreturn]] void ExecChild(const std::vector<int>& ends, char** argv, char** envp) {
  for (size_t c = 0; c < ends.size(); ++c) {
    if (dup2(ends[c], 3 + static_cast<int>(c)) < 0) _exit(126);
  }
  syscall(SYS_close_range, 3 + ends.size(), ~0U, 0);
  execve(argv[0], argv, envp);
  _exit(127);
}

// Socket pairs for `channels`; the child's ends are moved above fd 3 + channels so that the
// child's dup2 onto 3.. never overwrites one of them. Both ends close on exec.
absl::Status MakeChannels(int channels, std::vector<int>& parent, std::vector<int>& child) {
  for (int c = 0; c < channels; ++c) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return absl::UnavailableError(fmt::format("socketpair: {}", std::strerror(errno)));
    }
    int high = fcntl(pair[1], F_DUPFD_CLOEXEC, 3 + channels);
    close(pair[1]);
    if (high < 0) {
      close(pair[0]);
      return absl::UnavailableError(fmt::format("fcntl: {}", std::strerror(errno)));
    }
    parent.push_back(pair[0]);
    child.push_back(high);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerProcess>> WorkerProcess::Spawn(
    const std::vector<std::string>& argv,
    const std::vector<std::pair<std::string, std::string>>& env, int channels) {
  if (argv.empty() || channels < 1) {
    return absl::InvalidArgumentError("a worker needs a program and at least one channel");
  }
  std::vector<std::string> args = argv, envs = Environment(env);
  std::vector<char*> arg_ptrs = Pointers(args), env_ptrs = Pointers(envs);
  std::unique_ptr<WorkerProcess> worker(new WorkerProcess());
  worker->name_ = absl::StrJoin(argv, " ");
  std::vector<int> parent, child;
  absl::Status made = MakeChannels(channels, parent, child);
  for (int fd : parent) worker->channels_.push_back(std::make_unique<LineChannel>(fd));
  if (made.ok()) {
    worker->pid_ = fork();
    if (worker->pid_ == 0) ExecChild(child, arg_ptrs.data(), env_ptrs.data());
  }
  for (int fd : child) close(fd);
  RETURN_IF_ERROR(made);
  if (worker->pid_ < 0) {
    return absl::UnavailableError(
        fmt::format("fork for '{}': {}", worker->name_, std::strerror(errno)));
  }
  return worker;
}

absl::StatusOr<double> WorkerProcess::Call(int channel, const WorkerRequest& request) {
  LineChannel& c = *channels_.at(channel);
  absl::Status sent = c.WriteLine(EncodeRequest(request));
  std::string reply;
  absl::StatusOr<bool> got = sent.ok() ? c.ReadLine(reply) : absl::StatusOr<bool>(sent);
  if (!got.ok() || !*got) {
    return absl::UnavailableError(fmt::format(
        "worker process {} ('{}') stopped answering on channel {}{}; its errors are on stderr",
        pid_, name_, channel, got.ok() ? "" : ": " + std::string(got.status().message())));
  }
  return DecodeReply(reply);
}

void WorkerProcess::Stop() {
  if (pid_ <= 0) return;
  for (auto& channel : channels_) (void)channel->WriteLine(EncodeRequest(WorkerRequest::Quit()));
  channels_.clear();  // closes our ends: a worker still reading sees end of input
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

WorkerProcess::~WorkerProcess() { Stop(); }

}  // namespace tessera::runtime_cuda
