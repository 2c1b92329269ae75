// ProtobufLog: libprotobuf's log lines, rate-limited.
#include "common/protobuf_log.h"

#include <google/protobuf/stubs/logging.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

namespace ipn {
namespace {

// Process-wide by necessity: libprotobuf's log handler is a plain function pointer with
// no context, so its counters can live nowhere else.
std::atomic<uint64_t> lines{0};
std::atomic<uint64_t> printed{0};
std::atomic<int64_t> next_print_us{0};

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Handler(google::protobuf::LogLevel level, const char* filename, int line,
             const std::string& message) {
  const uint64_t n = lines.fetch_add(1) + 1;
  const int64_t now = SteadyMicros();
  int64_t due = next_print_us.load();
  const bool fatal = level == google::protobuf::LOGLEVEL_FATAL;
  if (!fatal &&
      (now < due || !next_print_us.compare_exchange_strong(due, now + kProtobufLogIntervalUs))) {
    return;
  }
  const uint64_t shown = printed.fetch_add(1) + 1;
  std::fprintf(stderr, "[libprotobuf %s:%d] %s (%llu such lines so far, %llu printed)\n", filename,
               line, message.c_str(), static_cast<unsigned long long>(n),
               static_cast<unsigned long long>(shown));
}

}  // namespace

void LimitProtobufLog() {
  google::protobuf::SetLogHandler(&Handler);
}

uint64_t ProtobufLogLines() {
  return lines.load();
}
uint64_t ProtobufLogPrinted() {
  return printed.load();
}

}  // namespace ipn
