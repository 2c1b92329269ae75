// InterfaceNode, the provider side: a forwarded inquiry goes to one of the agency's
// serving systems, chosen by its item (ServedInquiries keeps the serving systems, their
// items, the rotation and the deadlines); its answer is sealed end to end straight to the
// inquirer's node, and only the outcome goes to the core. The provider's node knows an
// exchange only by the core's exchange id.
#include <algorithm>

#include "common/limits.h"
#include "common/zmq_call.h"
#include "interface/answer_seal.h"
#include "interface/node_impl.h"

namespace ipn::interface {

using limits::kMaxParkedForwards;           // held while no serving system is connected
using limits::kParkUs;                      // … for at most this long
constexpr int64_t kParkMarginUs = 250'000;  // … and let go this long before the deadline

void InterfaceNode::Impl::HandleForwardedInquiry(const v1::Envelope& e) {
  const v1::ForwardedInquiry& f = e.forwarded_inquiry();
  ServedInquiry x;
  x.exchange_id = f.exchange_id();
  x.inquirer = f.inquirer_code();
  x.item = f.item_code();
  x.inquirer_node = f.inquirer_node();
  x.deadline_us = f.deadline_unix_us();
  Status vouched = peers_->Vouch(f.inquirer_node());
  if (!vouched.ok() || x.exchange_id.empty()) {
    log_->Warn("bad_forward", {{"exchange_id", x.exchange_id},
                               {"reason", vouched.ok() ? "no exchange id" : vouched.message()}});
    return;
  }
  // Room for it is checked before the agency sees it: an inquiry the node could not keep
  // would be answered into the void. A repeated exchange id is dropped (the first stands).
  Status room = served_.CanAdd(x.exchange_id);
  if (room.code() == Status::Code::kAlreadyExists) {
    log_->Warn("bad_forward", {{"exchange_id", x.exchange_id}, {"reason", room.message()}});
    return;
  }
  if (!room.ok()) {
    AnswerInquirer(x, v1::OUTCOME_FAILED, "", false, room.message());
    return;
  }
  v1::Envelope to_agency = Stamped(x.exchange_id);
  *to_agency.mutable_forwarded_inquiry() = f;
  // No serving system for this item right now — most often one reconnecting after this
  // node or it restarted. Hold the inquiry briefly rather than fail an answerable
  // exchange, but let go in time for the failure to reach the core before its deadline
  // does.
  const int64_t until = std::min(x.deadline_us - kParkMarginUs, Now() + kParkUs);
  if (!served_.HasServer(x.item) && parked_.size() < kMaxParkedForwards && until > Now()) {
    parked_.push_back(Parked{std::move(to_agency), std::move(x), until});
    return;
  }
  ServeForward(to_agency, std::move(x));
}

// Hands a forward to the serving system ServedInquiries chooses for its item; a system
// that vanished fails the send at once (ROUTER_MANDATORY): it leaves the rotation and the
// next choice gets it (a general system once no system naming the item is left).
void InterfaceNode::Impl::ServeForward(v1::Envelope& to_agency, ServedInquiry x) {
  while (std::optional<std::string> server = served_.NextServer(x.item)) {
    if (SendLocal(*server, to_agency).ok()) {
      x.server = *server;
      break;
    }
    log_->Warn("serving_client_gone", {{"exchange_id", x.exchange_id}});
    for (const ServedInquiry& lost : served_.RemoveServer(*server)) {
      AnswerInquirer(lost, v1::OUTCOME_FAILED, "", false, "the agency system disconnected");
    }
  }
  WipeString(to_agency.mutable_forwarded_inquiry()->mutable_provider_symbol());
  if (x.server.empty()) {
    AnswerInquirer(x, v1::OUTCOME_FAILED, "", false, "the agency system is not connected");
    return;
  }
  Status added = served_.Add(x);  // cannot fail: CanAdd said so, and nothing ran between
  if (!added.ok()) {
    log_->Error("forward_not_served",
                {{"exchange_id", x.exchange_id}, {"reason", added.message()}});
  }
}

// A serving system said Hello: the held forwards it can take go out, oldest first; those
// for items still without a serving system stay held.
void InterfaceNode::Impl::ServeParked() {
  std::deque<Parked> parked = std::move(parked_);
  parked_.clear();
  for (Parked& p : parked) {
    if (served_.HasServer(p.x.item)) {
      ServeForward(p.forward, std::move(p.x));
    } else {
      parked_.push_back(std::move(p));
    }
  }
}

void InterfaceNode::Impl::ExpireParked(int64_t now) {
  if (parked_.empty()) return;
  std::deque<Parked> keep;
  for (Parked& p : parked_) {
    if (p.until_us > now) {
      keep.push_back(std::move(p));
      continue;
    }
    WipeString(p.forward.mutable_forwarded_inquiry()->mutable_provider_symbol());
    AnswerInquirer(p.x, v1::OUTCOME_FAILED, "", false, "the agency system is not connected");
  }
  parked_ = std::move(keep);
}

void InterfaceNode::Impl::HandleAgencyAnswer(Incoming& in) {
  v1::AgencyAnswer* a = in.envelope.mutable_agency_answer();
  Result<ServedInquiry> x = served_.Take(in.envelope.request_id(), in.routing_id);
  if (!x.ok()) {
    WipeString(a->mutable_payload());
    log_->Warn("unexpected_agency_answer",
               {{"exchange_id", in.envelope.request_id()}, {"reason", x.status().message()}});
    return;
  }
  v1::Outcome outcome = a->outcome();
  if (outcome != v1::OUTCOME_PROVIDED && outcome != v1::OUTCOME_NOT_HELD)
    outcome = v1::OUTCOME_FAILED;
  std::string detail = outcome == v1::OUTCOME_FAILED ? "the agency system could not answer" : "";
  if (a->payload().size() > limits::kMaxAnswerPayloadBytes) {
    // Not sent: an answer past the limit would be dropped by the inquirer's node anyway.
    detail = "the answer is " + std::to_string(a->payload().size()) + " bytes; the limit is " +
             std::to_string(limits::kMaxAnswerPayloadBytes);
    outcome = v1::OUTCOME_FAILED;
    WipeString(a->mutable_payload());
  }
  AnswerInquirer(*x, outcome, a->payload(), a->non_disclosure(), detail);
  WipeString(a->mutable_payload());
}

void InterfaceNode::Impl::AnswerInquirer(const ServedInquiry& x, v1::Outcome outcome,
                                         std::string_view payload, bool non_disclosure,
                                         const std::string& detail) {
  // 1. The answer, sealed end to end, straight to the inquirer's node.
  v1::Envelope answer = Stamped(x.exchange_id);
  BoundAnswer bound{x.exchange_id, options_.agency_code, x.inquirer, outcome, std::string(payload)};
  Status sealed = SealAnswer(*peers_, bound, answer.mutable_answer());
  WipeString(&bound.payload);
  if (!sealed.ok()) {
    outcome = v1::OUTCOME_FAILED;
    log_->Error("seal_failed", {{"exchange_id", x.exchange_id}, {"reason", sealed.message()}});
  } else if (zmq::socket_t* peer = PeerSocket(x.inquirer_node)) {
    Status s = SendEnvelope(*peer, answer);
    if (!s.ok())
      log_->Warn("answer_send_failed", {{"exchange_id", x.exchange_id}, {"reason", s.message()}});
  }
  // 2. The outcome, never the content, to the core.
  v1::Envelope report = Stamped(x.exchange_id);
  v1::ProvisionOutcome* o = report.mutable_provision_outcome();
  o->set_exchange_id(x.exchange_id);
  o->set_outcome(outcome);
  o->set_non_disclosure(non_disclosure);
  o->set_detail(detail);
  SendToCore(report);
  if (KeepsForResend()) outbox_.KeepReport(report, Now());
  NodeStats::Count(stats_->provisions, outcome);
}

zmq::socket_t* InterfaceNode::Impl::PeerSocket(const v1::PeerNode& peer) {
  auto it = peer_sockets_.find(peer.agency_code());
  if (it != peer_sockets_.end() && it->second.endpoint == peer.answer_endpoint() &&
      it->second.key == peer.curve_public_key()) {
    return it->second.socket.get();
  }
  if (peer.curve_public_key().size() != 32) return nullptr;
  // A peer that moved or changed its key gets a new connection; the old one goes (with
  // whatever it could not deliver: the exchange ends by its receipt deadline).
  if (it != peer_sockets_.end()) {
    log_->Info("peer_moved", {{"peer", peer.agency_code()}, {"endpoint", peer.answer_endpoint()}});
    peer_sockets_.erase(it);
  }
  std::unique_ptr<zmq::socket_t> socket;
  Status s = ZmqCall("connect to " + peer.agency_code() + "'s node", [&] {
    socket = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    IPN_RETURN_IF_ERROR(ConfigureCurveClient(
        *socket, keys_,
        std::span<const uint8_t, 32>(
            reinterpret_cast<const uint8_t*>(peer.curve_public_key().data()), 32)));
    socket->set(zmq::sockopt::routing_id, options_.agency_code);
    socket->set(zmq::sockopt::sndhwm, 100000);
    socket->set(zmq::sockopt::linger, 0);
    IPN_RETURN_IF_ERROR(EnableHeartbeat(*socket));
    socket->connect(peer.answer_endpoint());
    return Status::Ok();
  });
  if (!s.ok()) {
    log_->Warn("peer_connect_failed", {{"peer", peer.agency_code()}, {"reason", s.message()}});
    return nullptr;
  }
  zmq::socket_t* raw = socket.get();
  peer_sockets_[peer.agency_code()] =
      PeerConnection{peer.answer_endpoint(), peer.curve_public_key(), std::move(socket)};
  return raw;
}

}  // namespace ipn::interface
