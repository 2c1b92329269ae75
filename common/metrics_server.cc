// MetricsServer over cpp-httplib.
#include "common/metrics_server.h"

#include <httplib.h>

#include "common/http_listen.h"

namespace ipn {

MetricsServer::MetricsServer(const Metrics* metrics, std::function<std::string()> health)
    : metrics_(metrics), health_(std::move(health)) {}

MetricsServer::~MetricsServer() {
  Stop();
}

Status MetricsServer::Start(int port) {
  server_ = std::make_unique<httplib::Server>();
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_->RenderPrometheus(), "text/plain; version=0.0.4");
  });
  server_->Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(health_(), "application/json");
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ < 0) return Status::Unavailable("cannot bind a metrics port on 127.0.0.1");
  } else {
    if (!server_->bind_to_port("127.0.0.1", port)) {
      return Status::Unavailable("cannot bind metrics port 127.0.0.1:" + std::to_string(port));
    }
    port_ = port;
  }
  return ListenInBackground(*server_, &thread_);
}

void MetricsServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ipn
