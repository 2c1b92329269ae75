// Logger: structured logs, one JSON object per line ({"ts":…,"level":…,"component":…,
// "event":…, fields…}). Passed to whatever needs it; there is no global logger.
// Callers must never pass a resident code, a symbol in clear or answer content.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace ipn {

class Logger {
 public:
  enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
  using Fields = std::vector<std::pair<std::string, nlohmann::json>>;

  // Appends to `path` (created 0600 if absent).
  static Result<std::unique_ptr<Logger>> OpenFile(const std::string& path, std::string component);
  static std::unique_ptr<Logger> Stderr(std::string component);
  // Discards everything (tests, quiet tools).
  static std::unique_ptr<Logger> Null();
  ~Logger();

  void set_min_level(Level level) { min_level_ = level; }
  void Log(Level level, std::string_view event, const Fields& fields = {});
  void Debug(std::string_view event, const Fields& fields = {}) { Log(Level::kDebug, event, fields); }
  void Info(std::string_view event, const Fields& fields = {}) { Log(Level::kInfo, event, fields); }
  void Warn(std::string_view event, const Fields& fields = {}) { Log(Level::kWarn, event, fields); }
  void Error(std::string_view event, const Fields& fields = {}) { Log(Level::kError, event, fields); }

 private:
  Logger(std::FILE* out, bool owned, std::string component);
  std::mutex mu_;
  std::FILE* out_;
  bool owned_;
  std::string component_;
  Level min_level_ = Level::kInfo;
};

}  // namespace ipn
