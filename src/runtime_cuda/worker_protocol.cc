// The worker line protocol, line channels and the worker's serving loop (tessera/runtime_cuda/
// worker.h). No CUDA here.
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "fmt/core.h"
#include "tessera/base/status.h"
#include "tessera/runtime_cuda/worker.h"

namespace tessera::runtime_cuda {
namespace {

// The words of `text` split at `sep` (empty words kept unless `skip_empty`).
std::vector<std::string_view> Split(std::string_view text, char sep, bool skip_empty) {
  std::vector<std::string_view> words;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = std::min(text.find(sep, begin), text.size());
    if (!skip_empty || end > begin) words.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return words;
}

bool ParseInt(std::string_view text, int& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

absl::StatusOr<int> PositiveInt(std::string_view text, std::string_view what) {
  int value = 0;
  if (!ParseInt(text, value) || value < 1) {
    return absl::InvalidArgumentError(
        fmt::format("worker request: {} '{}' is not an integer >= 1", what, text));
  }
  return value;
}

absl::StatusOr<std::vector<int>> Batches(std::string_view text) {
  std::vector<int> batches;
  for (std::string_view part : Split(text, ',', false)) {
    ASSIGN_OR_RETURN(int b, PositiveInt(part, "batch"));
    batches.push_back(b);
  }
  return batches;
}

std::string OneLine(std::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

}  // namespace

WorkerRequest WorkerRequest::Prepare(std::string model, int input, std::vector<int> batches) {
  return {Kind::kPrepare, std::move(model), input, std::move(batches)};
}
WorkerRequest WorkerRequest::Run(std::string model, int input, int batch) {
  return {Kind::kRun, std::move(model), input, {batch}};
}
WorkerRequest WorkerRequest::Quit() { return {}; }

std::string EncodeRequest(const WorkerRequest& r) {
  switch (r.kind) {
    case WorkerRequest::Kind::kPrepare:
      return fmt::format("prepare {} {} {}", r.model, r.input, absl::StrJoin(r.batches, ","));
    case WorkerRequest::Kind::kRun:
      return fmt::format("run {} {} {}", r.model, r.input, r.batches.empty() ? 0 : r.batches[0]);
    case WorkerRequest::Kind::kQuit:
      break;
  }
  return "quit";
}

absl::StatusOr<WorkerRequest> DecodeRequest(std::string_view line) {
  std::vector<std::string_view> words = Split(line, ' ', true);
  if (words.size() == 1 && words[0] == "quit") return WorkerRequest::Quit();
  bool prepare = !words.empty() && words[0] == "prepare";
  bool run = !words.empty() && words[0] == "run";
  if ((!prepare && !run) || words.size() != 4) {
    return absl::InvalidArgumentError(fmt::format(
        "worker request '{}': expected 'prepare MODEL INPUT B1,B2,...', 'run MODEL INPUT B' or "
        "'quit'",
        line));
  }
  ASSIGN_OR_RETURN(int input, PositiveInt(words[2], "input"));
  ASSIGN_OR_RETURN(std::vector<int> batches, Batches(words[3]));
  if (run && batches.size() != 1) {
    return absl::InvalidArgumentError(
        fmt::format("worker request '{}': run takes one batch", line));
  }
  std::string model(words[1]);
  if (run) return WorkerRequest::Run(model, input, batches[0]);
  return WorkerRequest::Prepare(model, input, batches);
}

std::string EncodeReply(const absl::StatusOr<double>& reply) {
  if (reply.ok()) return fmt::format("ok {}", *reply);
  return fmt::format("error {} {}", static_cast<int>(reply.status().code()),
                     OneLine(std::string(reply.status().message())));
}

absl::StatusOr<double> DecodeReply(std::string_view line) {
  if (line.substr(0, 3) == "ok ") {
    std::string number(line.substr(3));
    char* end = nullptr;
    double value = std::strtod(number.c_str(), &end);
    if (!number.empty() && end == number.c_str() + number.size()) return value;
  } else if (line.substr(0, 6) == "error ") {
    std::string_view rest = line.substr(6);
    size_t space = rest.find(' ');
    int code = 0;
    if (space != std::string_view::npos && ParseInt(rest.substr(0, space), code) && code > 0 &&
        code <= 16) {
      return absl::Status(static_cast<absl::StatusCode>(code),
                          fmt::format("worker: {}", rest.substr(space + 1)));
    }
  }
  return absl::InternalError(
      fmt::format("worker reply '{}' is not 'ok N' or 'error CODE TEXT'", OneLine(line)));
}

LineChannel::~LineChannel() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<bool> LineChannel::ReadLine(std::string& line) {
  while (true) {
    size_t end = buffer_.find('\n');
    if (end != std::string::npos) {
      line = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      return true;
    }
    char chunk[4096];
    ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(fmt::format("read: {}", std::strerror(errno)));
    if (n == 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

absl::Status LineChannel::WriteLine(std::string_view line) {
  std::string text = std::string(line) + "\n";
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = send(fd_, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(fmt::format("write: {}", std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// The reply to one decoded request (not quit).
absl::StatusOr<double> Answer(const WorkerRequest& request, ChannelHandler& handler) {
  if (request.kind == WorkerRequest::Kind::kPrepare) {
    return handler.Prepare(request.model, request.input, request.batches);
  }
  return handler.Run(request.model, request.input, request.batches[0]);
}

absl::Status ServeChannel(LineChannel& channel, ChannelHandler& handler) {
  std::string line;
  while (true) {
    ASSIGN_OR_RETURN(bool more, channel.ReadLine(line));
    if (!more) return absl::OkStatus();
    absl::StatusOr<WorkerRequest> request = DecodeRequest(line);
    if (!request.ok()) {
      RETURN_IF_ERROR(channel.WriteLine(EncodeReply(request.status())));
    } else if (request->kind == WorkerRequest::Kind::kQuit) {
      return channel.WriteLine(EncodeReply(0.0));
    } else {
      RETURN_IF_ERROR(channel.WriteLine(EncodeReply(Answer(*request, handler))));
    }
  }
}

}  // namespace tessera::runtime_cuda
