// ZAP handler thread: REP socket on inproc://zeromq.zap.01.
#include "common/zap_handler.h"

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "common/encoding.h"
#include "common/envelope_io.h"
#include "common/limits.h"
#include "common/zmq_call.h"

namespace ipn {

ZapHandler::ZapHandler(zmq::context_t& context, Authenticate authenticate, Logger* logger)
    : context_(context), authenticate_(std::move(authenticate)), logger_(logger) {}

ZapHandler::~ZapHandler() {
  Stop();
}

Status ZapHandler::Start() {
  std::unique_ptr<zmq::socket_t> socket;
  Status bound = ZmqCall("cannot bind the ZAP handler", [&] {
    socket = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::rep);
    socket->set(zmq::sockopt::linger, 0);
    socket->bind("inproc://zeromq.zap.01");
  });
  // Another ZAP handler in this context already holds the endpoint, or the context is gone.
  if (!bound.ok()) return Status::FailedPrecondition(bound.message());
  thread_ = std::thread([this, s = std::move(*socket)]() mutable { Serve(std::move(s)); });
  return Status::Ok();
}

void ZapHandler::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ZapHandler::Serve(zmq::socket_t socket) {
  while (!stop_.load()) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    Result<int> ready = PollSockets(&item, 1, std::chrono::milliseconds(100));
    // The handler's thread is the last place an exception could go: a failure ends the
    // handler (every later handshake is then refused) and is logged, not thrown.
    Status s = ready.ok() ? Status::Ok() : ready.status();
    if (s.ok() && (item.revents & ZMQ_POLLIN) != 0) {
      s = ZmqCall("answer a ZAP request", [&] { AnswerOne(socket); });
    }
    if (!s.ok()) {
      if (logger_ != nullptr) logger_->Error("zap_handler_stopped", {{"reason", s.ToString()}});
      return;
    }
  }
}

// Anyone can knock: a refused handshake is logged at once if none was for the interval,
// else counted and reported with the next line (limits::kRefusedHandshakeLogIntervalUs),
// so that unauthenticated clients cannot grow the log faster than a line per interval.
void ZapHandler::LogRefused(const std::string& domain, const std::string& address,
                            std::span<const uint8_t, 32> key) {
  ++refused_total_;
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (logger_ == nullptr ||
      (logged_once_ && now - last_log_us_ < limits::kRefusedHandshakeLogIntervalUs)) {
    ++unlogged_;
    return;
  }
  logger_->Warn("connection_refused", {{"domain", domain},
                                       {"address", address.substr(0, 64)},
                                       {"client_key", HexEncode(std::span<const uint8_t>(key))},
                                       {"reason", "key not admitted"},
                                       {"refused_since_last_line", unlogged_},
                                       {"refused_total", refused_total_.load()}});
  logged_once_ = true;
  last_log_us_ = now;
  unlogged_ = 0;
}

void ZapHandler::AnswerOne(zmq::socket_t& socket) {
  std::vector<zmq::message_t> frames;
  do {
    zmq::message_t frame;
    (void)socket.recv(frame, zmq::recv_flags::none);
    frames.push_back(std::move(frame));
  } while (socket.get(zmq::sockopt::rcvmore));
  // version, request id, domain, address, identity, mechanism, credentials...
  std::string status_code = "400";
  std::string status_text = "refused";
  std::string user_id;
  if (frames.size() >= 7 && frames[0].to_string() == "1.0" && frames[5].to_string() == "CURVE" &&
      frames[6].size() == 32) {
    std::span<const uint8_t, 32> key(static_cast<const uint8_t*>(frames[6].data()), 32);
    std::optional<std::string> agency = authenticate_(frames[2].to_string(), key);
    if (agency) {
      status_code = "200";
      status_text = "OK";
      user_id = *agency;
    } else {
      LogRefused(frames[2].to_string(), frames[3].to_string(), key);
    }
  }
  std::string request_id = frames.size() > 1 ? frames[1].to_string() : "";
  socket.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(status_code), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(status_text), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(std::string()), zmq::send_flags::none);
}

}  // namespace ipn
