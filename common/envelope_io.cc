// Envelope I/O over ZeroMQ sockets.
#include "common/envelope_io.h"

#include <sodium.h>

#include "common/zmq_call.h"

namespace ipn {

Status ConfigureCurveServer(zmq::socket_t& socket, const CurveKeyPair& own,
                            const std::string& zap_domain) {
  return ZmqCall("configure a CurveZMQ server socket", [&] {
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey,
               zmq::const_buffer(own.secret_key.data(), own.secret_key.size()));
    socket.set(zmq::sockopt::zap_domain, zap_domain);
    socket.set(zmq::sockopt::linger, 0);
  });
}

Status ConfigureCurveClient(zmq::socket_t& socket, const CurveKeyPair& own,
                            std::span<const uint8_t, 32> server_public_key) {
  return ZmqCall("configure a CurveZMQ client socket", [&] {
    socket.set(zmq::sockopt::curve_serverkey,
               zmq::const_buffer(server_public_key.data(), server_public_key.size()));
    socket.set(zmq::sockopt::curve_publickey,
               zmq::const_buffer(own.public_key.data(), own.public_key.size()));
    socket.set(zmq::sockopt::curve_secretkey,
               zmq::const_buffer(own.secret_key.data(), own.secret_key.size()));
    socket.set(zmq::sockopt::linger, 0);
  });
}

void WipeMessage(zmq::message_t& message) {
  if (message.size() > 0) sodium_memzero(message.data(), message.size());
}

void WipeString(std::string* s) {
  if (s != nullptr && !s->empty()) sodium_memzero(s->data(), s->size());
}

namespace {

Status ParseInto(zmq::message_t& body, v1::Envelope* envelope) {
  bool ok = envelope->ParseFromArray(body.data(), static_cast<int>(body.size()));
  WipeMessage(body);
  if (!ok) return Status::InvalidArgument("message is not an ipn.v1.Envelope");
  if (envelope->protocol_version() != v1::PROTOCOL_VERSION_1) {
    return Status::InvalidArgument("unsupported protocol version " +
                                   std::to_string(envelope->protocol_version()));
  }
  return Status::Ok();
}

Status SendSerialized(zmq::socket_t& socket, const v1::Envelope& envelope, zmq::send_flags f) {
  zmq::message_t msg(envelope.ByteSizeLong());
  envelope.SerializeToArray(msg.data(), static_cast<int>(msg.size()));
  try {
    auto sent = socket.send(msg, f);
    if (!sent) return Status::Unavailable("send would block");
  } catch (const zmq::error_t& e) {
    WipeMessage(msg);
    if (e.num() == EHOSTUNREACH) return Status::Unavailable("peer not connected");
    return Status::IoError(std::string("send failed: ") + e.what());
  }
  return Status::Ok();
}

// Reads every frame of one message into `incoming`; `*got` false when none is waiting.
// Throws zmq::error_t (ReceiveFromRouter turns it into a Status).
Status ReadRouterMessage(zmq::socket_t& router, Incoming* incoming, bool* got) {
  zmq::message_t id;
  *got = false;
  if (!router.recv(id, zmq::recv_flags::dontwait)) return Status::Ok();
  *got = true;
  incoming->routing_id = id.to_string();
  incoming->user_id.clear();
  incoming->envelope.Clear();
  // Drain every frame of the message; the envelope is the last one.
  zmq::message_t body;
  bool have_body = false;
  while (router.get(zmq::sockopt::rcvmore)) {
    if (have_body) WipeMessage(body);
    body = zmq::message_t();
    (void)router.recv(body, zmq::recv_flags::none);
    have_body = true;
  }
  if (!have_body) return Status::InvalidArgument("message without a body frame");
  const char* user = nullptr;
  try {
    user = body.gets("User-Id");
  } catch (const zmq::error_t&) {
    user = nullptr;  // no ZAP on this socket: no identity
  }
  if (user != nullptr) incoming->user_id = user;
  return ParseInto(body, &incoming->envelope);
}

// A DEALER message is one frame; extra frames are wiped and dropped. Throws zmq::error_t.
Status ReadDealerMessage(zmq::socket_t& dealer, v1::Envelope* envelope, bool* got) {
  zmq::message_t body;
  *got = false;
  if (!dealer.recv(body, zmq::recv_flags::dontwait)) return Status::Ok();
  *got = true;
  while (dealer.get(zmq::sockopt::rcvmore)) {
    WipeMessage(body);
    (void)dealer.recv(body, zmq::recv_flags::none);
  }
  envelope->Clear();
  return ParseInto(body, envelope);
}

}  // namespace

Result<bool> ReceiveFromRouter(zmq::socket_t& router, Incoming* incoming) {
  bool got = false;
  IPN_RETURN_IF_ERROR(
      ZmqCall("receive", [&] { return ReadRouterMessage(router, incoming, &got); }));
  return got;
}

Status SendToPeer(zmq::socket_t& router, std::string_view routing_id, const v1::Envelope& e) {
  try {
    auto sent =
        router.send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    if (!sent) return Status::ResourceExhausted("peer queue full");
  } catch (const zmq::error_t& err) {
    if (err.num() == EHOSTUNREACH) return Status::Unavailable("peer not connected");
    return Status::IoError(std::string("send failed: ") + err.what());
  }
  return SendSerialized(router, e, zmq::send_flags::dontwait);
}

Status SendEnvelope(zmq::socket_t& dealer, const v1::Envelope& envelope) {
  return SendSerialized(dealer, envelope, zmq::send_flags::dontwait);
}

Result<bool> ReceiveEnvelope(zmq::socket_t& dealer, v1::Envelope* envelope) {
  bool got = false;
  IPN_RETURN_IF_ERROR(
      ZmqCall("receive", [&] { return ReadDealerMessage(dealer, envelope, &got); }));
  return got;
}

Result<int> PollSockets(zmq::pollitem_t* items, size_t count, std::chrono::milliseconds timeout) {
  try {
    return zmq::poll(items, count, timeout);
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) {
      for (size_t i = 0; i < count; ++i) items[i].revents = 0;
      return 0;
    }
    return Status::Unavailable(std::string("poll failed: ") + e.what());
  }
}

void StampEnvelope(v1::Envelope* envelope, std::string_view request_id, int64_t now_us) {
  envelope->set_protocol_version(v1::PROTOCOL_VERSION_1);
  envelope->set_request_id(std::string(request_id));
  envelope->set_sent_at_unix_us(now_us);
}

}  // namespace ipn
