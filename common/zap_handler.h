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

 private:
  void Serve(zmq::socket_t socket);
  // Reads one ZAP request and sends its reply. Throws zmq::error_t (Serve catches it).
  void AnswerOne(zmq::socket_t& socket);
  zmq::context_t& context_;
  Authenticate authenticate_;
  Logger* logger_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ipn
