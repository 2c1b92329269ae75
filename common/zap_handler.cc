// ZAP handler thread: REP socket on inproc://zeromq.zap.01.
#include "common/zap_handler.h"

#include <vector>

#include "common/encoding.h"
#include "common/envelope_io.h"

namespace ipn {

ZapHandler::ZapHandler(zmq::context_t& context, Authenticate authenticate, Logger* logger)
    : context_(context), authenticate_(std::move(authenticate)), logger_(logger) {}

ZapHandler::~ZapHandler() { Stop(); }

Status ZapHandler::Start() {
  zmq::socket_t socket(context_, zmq::socket_type::rep);
  socket.set(zmq::sockopt::linger, 0);
  try {
    socket.bind("inproc://zeromq.zap.01");
  } catch (const zmq::error_t& e) {
    return Status::FailedPrecondition(std::string("cannot bind the ZAP handler: ") + e.what());
  }
  thread_ = std::thread([this, s = std::move(socket)]() mutable { Serve(std::move(s)); });
  return Status::Ok();
}

void ZapHandler::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ZapHandler::Serve(zmq::socket_t socket) {
  while (!stop_.load()) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    PollSockets(&item, 1, std::chrono::milliseconds(100));
    if ((item.revents & ZMQ_POLLIN) == 0) continue;
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
    if (frames.size() >= 7 && frames[0].to_string() == "1.0" &&
        frames[5].to_string() == "CURVE" && frames[6].size() == 32) {
      std::span<const uint8_t, 32> key(static_cast<const uint8_t*>(frames[6].data()), 32);
      std::optional<std::string> agency = authenticate_(frames[2].to_string(), key);
      if (agency) {
        status_code = "200";
        status_text = "OK";
        user_id = *agency;
      } else if (logger_ != nullptr) {
        logger_->Warn("connection_refused",
                      {{"domain", frames[2].to_string()},
                       {"address", frames[3].to_string()},
                       {"client_key", HexEncode(std::span<const uint8_t>(key))},
                       {"reason", "key not admitted"}});
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
}

}  // namespace ipn
