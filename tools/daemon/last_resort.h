// LastResort: the outermost frame of each executable's main (ipn-core, ipn-node,
// ipn-agency, ipn-portal, ipn). The libraries report failures as Status and never throw
// a ZeroMQ exception out (common/zmq_call.h); anything that still escapes main's body —
// a std::exception from a dependency, or anything else — ends here as one line on
// stderr, one error in the structured log if the body had opened one, and a non-zero
// exit code, instead of std::terminate's abort and core dump.
#pragma once

#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "common/logger.h"
#include "common/protobuf_log.h"

namespace ipn::daemon {

// sysexits.h's EX_SOFTWARE: an internal error, distinct from the mains' own 1 and 2.
inline constexpr int kUncaughtExitCode = 70;

class LastResort {
 public:
  // Also holds libprotobuf's own log lines to a rate (common/protobuf_log.h).
  explicit LastResort(std::string program) : program_(std::move(program)) { LimitProtobufLog(); }
  LastResort(const LastResort&) = delete;
  LastResort& operator=(const LastResort&) = delete;

  // Takes the structured log main's body opened and returns it for the body's use. The
  // log is kept here, not in the body, because the body's locals are gone by the time
  // an exception reaches Run's handler.
  Logger* KeepLog(std::unique_ptr<Logger> log) {
    log_ = std::move(log);
    return log_.get();
  }

  // Runs main's body (int()) and returns its exit code, or kUncaughtExitCode if it threw.
  template <typename Body>
  int Run(Body&& body) noexcept {
    try {
      return std::forward<Body>(body)();
    } catch (const std::exception& e) {
      Report(e.what());
    } catch (...) {
      Report("an exception of unknown type");
    }
    return kUncaughtExitCode;
  }

 private:
  void Report(const char* what) noexcept {
    // Reporting must not throw in turn: a failing log write is dropped.
    std::fprintf(stderr, "%s: stopped by an unexpected error: %s\n", program_.c_str(), what);
    try {
      if (log_ != nullptr) log_->Error("uncaught_exception", {{"what", std::string(what)}});
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing left to report to
    }
  }

  std::string program_;
  std::unique_ptr<Logger> log_;
};

}  // namespace ipn::daemon
