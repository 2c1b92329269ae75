// JSON-lines logger.
#include "common/logger.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

namespace ipn {
namespace {

const char* LevelName(Logger::Level level) {
  switch (level) {
    case Logger::Level::kDebug: return "debug";
    case Logger::Level::kInfo: return "info";
    case Logger::Level::kWarn: return "warn";
    case Logger::Level::kError: return "error";
  }
  return "info";
}

std::string UtcTimestamp() {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(us % 1000000));
  return buf;
}

}  // namespace

Logger::Logger(std::FILE* out, bool owned, std::string component)
    : out_(out), owned_(owned), component_(std::move(component)) {}

Logger::~Logger() {
  if (owned_ && out_ != nullptr) std::fclose(out_);
}

Result<std::unique_ptr<Logger>> Logger::OpenFile(const std::string& path, std::string component) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot open log file " + path + ": " + std::strerror(errno));
  std::FILE* f = ::fdopen(fd, "a");
  if (f == nullptr) {
    ::close(fd);
    return Status::IoError("cannot open log file " + path);
  }
  return std::unique_ptr<Logger>(new Logger(f, true, std::move(component)));
}

std::unique_ptr<Logger> Logger::Stderr(std::string component) {
  return std::unique_ptr<Logger>(new Logger(stderr, false, std::move(component)));
}

std::unique_ptr<Logger> Logger::Null() {
  return std::unique_ptr<Logger>(new Logger(nullptr, false, ""));
}

void Logger::Log(Level level, std::string_view event, const Fields& fields) {
  if (out_ == nullptr || level < min_level_) return;
  nlohmann::ordered_json line;
  line["ts"] = UtcTimestamp();
  line["level"] = LevelName(level);
  line["component"] = component_;
  line["event"] = event;
  for (const auto& [k, v] : fields) line[k] = v;
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  std::lock_guard lock(mu_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace ipn
