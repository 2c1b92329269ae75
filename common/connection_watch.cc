// ConnectionWatch: libzmq's socket monitor, reduced to the three events that matter.
#include "common/connection_watch.h"

#include <atomic>
#include <cstring>

#include "common/zmq_call.h"

namespace ipn {

Status EnableHeartbeat(zmq::socket_t& socket) {
  return ZmqCall("set heartbeats", [&] {
    socket.set(zmq::sockopt::heartbeat_ivl, kHeartbeatIntervalMs);
    socket.set(zmq::sockopt::heartbeat_timeout, kHeartbeatTimeoutMs);
    socket.set(zmq::sockopt::heartbeat_ttl, kHeartbeatTimeoutMs);
  });
}

Result<std::unique_ptr<ConnectionWatch>> ConnectionWatch::Start(zmq::context_t& context,
                                                                zmq::socket_t& socket) {
  // One inproc name per watch in the process (inproc names are per context, but a
  // process-wide counter is simplest and costs nothing).
  static std::atomic<uint64_t> next{0};
  const std::string endpoint = "inproc://ipn-connection-watch-" + std::to_string(++next);
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(),
                         ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0) {
    return Status::Internal(std::string("cannot monitor a connection: ") +
                            zmq_strerror(zmq_errno()));
  }
  std::unique_ptr<zmq::socket_t> events;
  IPN_RETURN_IF_ERROR(ZmqCall("watch a connection", [&] {
    events = std::make_unique<zmq::socket_t>(context, zmq::socket_type::pair);
    events->set(zmq::sockopt::linger, 0);
    events->connect(endpoint);
  }));
  return std::unique_ptr<ConnectionWatch>(new ConnectionWatch(std::move(events)));
}

ConnectionWatch::~ConnectionWatch() = default;

Result<std::vector<ConnectionWatch::Event>> ConnectionWatch::Take() {
  std::vector<Event> out;
  Status s = ZmqCall("read a connection's events", [&] {
    for (;;) {
      // Each event is two frames: [16-bit event id, 32-bit value], [the peer's address].
      zmq::message_t head, address;
      if (!events_->recv(head, zmq::recv_flags::dontwait)) return;
      (void)events_->recv(address);
      if (head.size() < sizeof(uint16_t)) continue;
      uint16_t id = 0;
      std::memcpy(&id, head.data(), sizeof(id));
      if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        out.push_back(Event::kConnected);
      } else if (id == ZMQ_EVENT_DISCONNECTED || id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
        // A handshake cut short without a reason is a lost connection, not a refusal.
        out.push_back(Event::kDisconnected);
      } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
                 id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        out.push_back(Event::kRefused);
      }
    }
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace ipn
