// ZapHandler: the ZeroMQ Authentication Protocol (RFC 27) handler of a process. It
// answers the CurveZMQ handshakes of every server socket in a context: a client key
// is admitted when `authenticate` names the agency it belongs to, and that agency code
// becomes the User-Id property of every message the client sends.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "common/logger.h"
#include "common/status.h"

namespace ipn {

class ZapHandler {
 public:
  // Returns the agency code for an admitted key, or nullopt to refuse it.
  using Authenticate = std::function<std::optional<std::string>(
      const std::string& domain, std::span<const uint8_t, 32> client_key)>;

  ZapHandler(zmq::context_t& context, Authenticate authenticate, Logger* logger);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  // Binds inproc://zeromq.zap.01 and starts answering. Call before binding servers.
  Status Start();
  void Stop();

  // Handshakes refused so far (any thread).
  uint64_t refused() const { return refused_total_.load(); }

 private:
  void Serve(zmq::socket_t socket);
  // Reads one ZAP request and sends its reply. Throws zmq::error_t (Serve catches it).
  void AnswerOne(zmq::socket_t& socket);
  void LogRefused(const std::string& domain, const std::string& address,
                  std::span<const uint8_t, 32> key);

  zmq::context_t& context_;
  Authenticate authenticate_;
  Logger* logger_;
  // Refused handshakes (the handler's thread only).
  std::atomic<uint64_t> refused_total_{0};
  uint64_t unlogged_ = 0;
  bool logged_once_ = false;
  int64_t last_log_us_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ipn
