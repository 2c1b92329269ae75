// ipn-node: runs one agency's interface node. Thin: flags, InterfaceNode, signals.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "interface/interface_node.h"
#include "tools/daemon/daemon.h"
#include "tools/daemon/last_resort.h"

namespace {

int RunMain(int argc, char** argv, ipn::daemon::LastResort& last_resort) {
  CLI::App app{"ipn-node: an agency's interface node"};
  ipn::interface::NodeOptions options;
  std::string core_key_hex, log_path;
  double timeout_s = 15;
  app.add_option("--agency", options.agency_code, "Agency code this node serves")->required();
  app.add_option("--key-file", options.key_file, "This node's Curve25519 secret key file")
      ->required();
  app.add_option("--core", options.core_endpoint, "The core's endpoint")->required();
  app.add_option("--core-key", core_key_hex, "The core's public key (64 hex characters)")
      ->required();
  app.add_option("--answer-bind", options.answer_bind, "Where other nodes send answers")
      ->capture_default_str();
  app.add_option("--answer-endpoint-file", options.answer_endpoint_file,
                 "File that keeps the answer endpoint across restarts (peers reconnect to it)");
  app.add_option("--local", options.local_endpoint,
                 "Local endpoint for the agency's systems (ipc://PATH)")
      ->required();
  app.add_option("--timeout", timeout_s, "Seconds before an inquiry with no end times out")
      ->capture_default_str();
  app.add_option("--metrics-port", options.metrics_port,
                 "Loopback port for /health and /metrics (0: any, -1: off)")
      ->capture_default_str();
  app.add_option("--log", log_path, "Log file (JSON lines); default stderr");
  CLI11_PARSE(app, argc, argv);

  auto core_key = ipn::ParsePublicKeyHex(core_key_hex);
  if (!core_key.ok()) {
    std::fprintf(stderr, "ipn-node: --core-key: %s\n", core_key.status().message().c_str());
    return 2;
  }
  options.core_public_key = *core_key;
  options.local_timeout_us = static_cast<int64_t>(timeout_s * 1e6);
  auto log = ipn::daemon::OpenLog(log_path, "node");
  if (!log.ok()) {
    std::fprintf(stderr, "ipn-node: %s\n", log.status().ToString().c_str());
    return 1;
  }
  options.logger = last_resort.KeepLog(std::move(*log));
  static ipn::daemon::Signals signals;
  ipn::daemon::InstallSignalHandlers(&signals);
  auto node = ipn::interface::InterfaceNode::Open(std::move(options));
  if (!node.ok()) {
    std::fprintf(stderr, "ipn-node: cannot start: %s\n", node.status().ToString().c_str());
    return node.status().code() == ipn::Status::Code::kPermissionDenied ? 3 : 1;
  }
  ipn::daemon::AnnounceReady("answer_endpoint=" + (*node)->answer_endpoint() +
                             " metrics_port=" + std::to_string((*node)->metrics_port()));
  ipn::Status s = (*node)->Run(signals.stop);
  return s.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  ipn::daemon::LastResort last_resort("ipn-node");
  return last_resort.Run([&] { return RunMain(argc, argv, last_resort); });
}
