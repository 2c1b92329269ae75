// Envelope I/O over ZeroMQ: CurveZMQ socket setup and sending/receiving one
// ipn.v1.Envelope per message. Every message's bytes are wiped after parsing, so a
// resident code or an answer never lingers in a ZeroMQ buffer.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "common/curve_keys.h"
#include "common/status.h"
#include "ipn/v1/wire.pb.h"

namespace ipn {

// The CurveZMQ server side (core ROUTER, a node's answer ROUTER). A ZAP handler must be
// running in the socket's context (zap_handler.h); `zap_domain` names the realm.
Status ConfigureCurveServer(zmq::socket_t& socket, const CurveKeyPair& own,
                            const std::string& zap_domain);
// The CurveZMQ client side: connects only to a server holding `server_public_key`.
Status ConfigureCurveClient(zmq::socket_t& socket, const CurveKeyPair& own,
                            std::span<const uint8_t, 32> server_public_key);

// A message received on a ROUTER socket: the peer's routing id, the identity the ZAP
// handler gave it (agency code; empty on sockets without ZAP) and the envelope.
struct Incoming {
  std::string routing_id;
  std::string user_id;
  v1::Envelope envelope;
};

// Receives one message from a ROUTER socket. Returns false when none is waiting
// (non-blocking). A malformed message is consumed and returns InvalidArgument.
Result<bool> ReceiveFromRouter(zmq::socket_t& router, Incoming* incoming);
// Sends to a ROUTER peer. Unavailable if the peer is not connected (ROUTER_MANDATORY).
Status SendToPeer(zmq::socket_t& router, std::string_view routing_id, const v1::Envelope& e);

// DEALER side: one envelope per message.
Status SendEnvelope(zmq::socket_t& dealer, const v1::Envelope& envelope);
Result<bool> ReceiveEnvelope(zmq::socket_t& dealer, v1::Envelope* envelope);

// Wipes the bytes of a received or serialized message.
void WipeMessage(zmq::message_t& message);
// Wipes the resident code held by a protobuf string field before it is released.
void WipeString(std::string* s);

// zmq::poll that treats an interrupting signal (EINTR) as "nothing ready": the caller's
// loop then sees its stop flag. Returns the number of ready items, or Unavailable when
// polling itself failed (a closed socket, a terminated context).
Result<int> PollSockets(zmq::pollitem_t* items, size_t count, std::chrono::milliseconds timeout);

// Fills protocol version, request id and sender time.
void StampEnvelope(v1::Envelope* envelope, std::string_view request_id, int64_t now_us);

}  // namespace ipn
