// ConnectionWatch: tells the owner of a connecting socket (a node's DEALER to the core, an
// agency system's DEALER to its node) each time its connection is established — after
// the security handshake — or lost, through libzmq's socket monitor. ZeroMQ reconnects by
// itself but says nothing to the application; a peer that restarted has forgotten who we
// are, so every new connection must say Hello again. This is how sessions heal.
//
// Also the one place that sets ZMTP heartbeats (both ways): a peer that vanished without
// closing its TCP connection (a pulled cable, a paused VM) is noticed within
// kHeartbeatTimeoutMs and reconnected, instead of a half-open connection eating messages.
#pragma once

#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/status.h"

namespace ipn {

inline constexpr int kHeartbeatIntervalMs = 1'000;
inline constexpr int kHeartbeatTimeoutMs = 3'000;

// Heartbeats every kHeartbeatIntervalMs; the connection is dropped (and, on a connecting
// socket, re-made) when nothing arrives for kHeartbeatTimeoutMs.
Status EnableHeartbeat(zmq::socket_t& socket);

class ConnectionWatch {
 public:
  enum class Event {
    kConnected,     // the handshake succeeded: a new session with the peer
    kDisconnected,  // the connection closed (it will be re-made by ZeroMQ)
    kRefused,       // the peer refused our key or spoke another protocol
  };

  // Watches `socket` (which must outlive the watch's use) on `context`. Start before the
  // socket connects so that the first connection is seen too.
  static Result<std::unique_ptr<ConnectionWatch>> Start(zmq::context_t& context,
                                                        zmq::socket_t& socket);
  ~ConnectionWatch();

  // For zmq::poll: readable when events are waiting.
  void* handle() const { return events_->handle(); }
  // Every event waiting now, in order.
  Result<std::vector<Event>> Take();

 private:
  explicit ConnectionWatch(std::unique_ptr<zmq::socket_t> events) : events_(std::move(events)) {}
  std::unique_ptr<zmq::socket_t> events_;
};

}  // namespace ipn
