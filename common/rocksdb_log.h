// RocksDbLog: RocksDB's own diagnostics routed into the daemon's structured log instead
// of a LOG file beside the data. A LOG file on the data disk is one more thing that grows
// there, and once that disk is full RocksDB's writer of it asserts on its next line
// (found by the disk-full test: the SstFileManager's recovery thread logs). Warnings and
// errors are kept, as event "rocksdb"; the chatter below them is dropped. Header-only:
// the libraries that open RocksDB (records/, symbol/) link it themselves.
#pragma once

#include <rocksdb/env.h>

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <string>

#include "common/logger.h"

namespace ipn {

class RocksDbLog : public rocksdb::Logger {
 public:
  // `log` may be null (then everything is dropped); it must outlive the database.
  RocksDbLog(ipn::Logger* log, std::string store)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), log_(log), store_(std::move(store)) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (log_ == nullptr || level < rocksdb::InfoLogLevel::WARN_LEVEL) return;
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    const bool error = level >= rocksdb::InfoLogLevel::ERROR_LEVEL;
    log_->Log(error ? ipn::Logger::Level::kError : ipn::Logger::Level::kWarn, "rocksdb",
              {{"store", store_}, {"message", std::string(line)}});
  }

 private:
  ipn::Logger* log_;
  std::string store_;
};

}  // namespace ipn
