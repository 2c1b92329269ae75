// MetricsServer: a loopback HTTP endpoint for a daemon's health check (/health, JSON)
// and its counters (/metrics, Prometheus text). Served by cpp-httplib on 127.0.0.1 only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/metrics.h"
#include "common/status.h"

namespace httplib {
class Server;
}

namespace ipn {

class MetricsServer {
 public:
  // `health` returns a small JSON object string, e.g. {"status":"ok",...}.
  MetricsServer(const Metrics* metrics, std::function<std::string()> health);
  ~MetricsServer();
  // Port 0 picks a free port; port() says which.
  Status Start(int port);
  void Stop();
  int port() const { return port_; }

 private:
  const Metrics* metrics_;
  std::function<std::string()> health_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace ipn
