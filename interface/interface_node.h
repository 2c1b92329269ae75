// InterfaceNode: one agency's interface node (インターフェイスシステム). It connects
// to the core (CurveZMQ client), accepts sealed answers from the nodes the core vouches
// for on its own CurveZMQ endpoint, and serves the agency's systems on a local ipc://
// endpoint (see agency_client.h). It stores nothing: an answer is held in memory only
// until it is delivered, then wiped.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/curve_keys.h"
#include "common/logger.h"
#include "common/status.h"

namespace ipn::interface {

struct NodeOptions {
  std::string agency_code;
  std::string key_file;  // this node's Curve25519 key pair
  // e.g. tcp://127.0.0.1:7100; a replicated core's sites comma-separated (the node talks
  // to whichever leads).
  std::string core_endpoint;
  PublicKey core_public_key{};
  std::string answer_bind = "tcp://127.0.0.1:*";  // where other nodes send answers
  // Where the answer endpoint is kept across restarts (empty: not kept). A restarted node
  // binds the endpoint it had, so peers' connections to it heal by themselves; if that
  // address is taken, it binds `answer_bind` and the core tells every peer the new one.
  std::string answer_endpoint_file;
  std::string local_endpoint;                // ipc://… for the agency's systems
  int64_t local_timeout_us = 15'000'000;     // an inquiry with no end by then
  int64_t handshake_timeout_us = 5'000'000;  // core must welcome us by then
  int metrics_port = -1;
  Logger* logger = nullptr;
  const Clock* clock = nullptr;
};

class InterfaceNode {
 public:
  // Connects to the core and waits for its Welcome: an unregistered or suspended key is
  // refused by the core's ZAP handler, which Open reports as PermissionDenied.
  static Result<std::unique_ptr<InterfaceNode>> Open(NodeOptions options);
  ~InterfaceNode();
  InterfaceNode(const InterfaceNode&) = delete;
  InterfaceNode& operator=(const InterfaceNode&) = delete;

  std::string answer_endpoint() const;
  int metrics_port() const;
  Status Run(const std::atomic<bool>& stop);

  class Impl;

 private:
  explicit InterfaceNode(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipn::interface
