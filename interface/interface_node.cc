// InterfaceNode: the node's event loop and the named steps of its data path.
//
//  agency system ─ipc─► HandleLocal ─┬─► HandleLocalInquiry ──────────────► core
//                                    ├─► HandleLocalIssueRequest ─────────► core
//                                    └─► HandleAgencyAnswer ─► Seal ─► inquirer node
//                                                           └───────────► core (outcome)
//  core ──► HandleCore ─┬─► HandleDecision / HandleResult ─► Deliver ─► agency system
//                       ├─► HandleForwardedInquiry ─────────► agency system (server)
//                       └─► HandleSymbolIssued ─────────────► agency systems
//  provider node ──► HandleAnswer ─► Open ─► (after the accepted decision) Deliver
//                                                  └─► Receipt ─► core
#include "interface/interface_node.h"

#include <sodium.h>

#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>
#include <zmq.hpp>

#include "common/envelope_io.h"
#include "common/metrics.h"
#include "common/metrics_server.h"
#include "common/zap_handler.h"
#include "interface/peer_directory.h"

namespace ipn::interface {

namespace {
std::string OutcomeLabel(v1::Outcome o) {
  std::string name = v1::Outcome_Name(o);
  return name.rfind("OUTCOME_", 0) == 0 ? name.substr(8) : name;
}
}  // namespace

class InterfaceNode::Impl {
 public:
  ~Impl();
  Status Init(NodeOptions options);
  Status Run(const std::atomic<bool>& stop);
  std::string answer_endpoint() const { return answer_endpoint_; }
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : -1; }

 private:
  // An inquiry this node's agency asked, waiting for its end.
  struct Outgoing {
    std::string client;  // local routing id of the asking system
    std::string provider;
    int64_t started_us = 0;
    int64_t deadline_us = 0;
    bool accepted = false;  // the core's accepted decision arrived
    bool answered = false;  // the provider's answer arrived (buffered below)
    v1::Outcome outcome = v1::OUTCOME_UNSPECIFIED;
    std::string payload;  // wiped on delivery
  };
  // An inquiry forwarded to this node's agency, waiting for its answer.
  struct Incoming_ {
    std::string inquirer;
    std::string request_id;
    v1::PeerNode inquirer_node;
    int64_t deadline_us = 0;
  };

  Status Handshake();
  void HandleLocal(Incoming& in);
  void HandleLocalInquiry(Incoming& in);
  void HandleLocalIssueRequest(Incoming& in);
  void HandleLocalRecordRequest(Incoming& in);
  bool RelayReply(const v1::Envelope& e);
  void HandleAgencyAnswer(Incoming& in);
  void HandleCore(v1::Envelope& e);
  void HandleDecision(const v1::Envelope& e);
  void HandleResult(const v1::Envelope& e);
  void HandleForwardedInquiry(const v1::Envelope& e);
  void HandleSymbolIssued(const v1::Envelope& e);
  void HandleAnswer(Incoming& in);
  void Deliver(const std::string& request_id, v1::InquiryResult result, bool send_receipt);
  void AnswerInquirer(const Incoming_& x, v1::Outcome outcome, std::string_view payload,
                      bool non_disclosure, const std::string& detail);
  void ExpireLocalDeadlines();
  zmq::socket_t* PeerSocket(const v1::PeerNode& peer);
  void SendToCore(v1::Envelope e);
  void SendLocal(const std::string& client, const v1::Envelope& e);
  v1::Envelope Stamped(const std::string& request_id) const;
  int64_t Now() const { return clock_->NowMicros(); }

  NodeOptions options_;
  SystemClock system_clock_;
  const Clock* clock_ = nullptr;
  Logger* log_ = nullptr;
  CurveKeyPair keys_;
  std::unique_ptr<PeerDirectory> peers_;
  zmq::context_t context_{1};
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<zmq::socket_t> core_;
  std::unique_ptr<zmq::socket_t> answers_;
  std::unique_ptr<zmq::socket_t> local_;
  std::map<std::string, std::unique_ptr<zmq::socket_t>> peer_sockets_;  // by agency
  std::string answer_endpoint_;

  std::set<std::string> listeners_;  // local systems that said Hello
  std::deque<std::string> servers_;  // local systems serving forwarded inquiries
  size_t next_server_ = 0;
  std::unordered_map<std::string, Outgoing> outgoing_;          // by request id
  std::unordered_map<std::string, Incoming_> incoming_;         // by local id
  std::unordered_map<std::string, std::string> issue_clients_;  // request id -> client
  // Record queries, heads and statistics relayed to the core: request id -> client.
  std::unordered_map<std::string, std::string> record_clients_;
  uint64_t local_seq_ = 0;
  int64_t next_expiry_check_us_ = 0;

  Metrics metrics_;
  std::unique_ptr<MetricsServer> metrics_server_;
  Histogram* latency_ = nullptr;
  Gauge* outgoing_depth_ = nullptr;
  Gauge* incoming_depth_ = nullptr;
};

InterfaceNode::Impl::~Impl() {
  if (metrics_server_) metrics_server_->Stop();
  peer_sockets_.clear();
  core_.reset();
  answers_.reset();
  local_.reset();
  if (zap_) zap_->Stop();
}

v1::Envelope InterfaceNode::Impl::Stamped(const std::string& request_id) const {
  v1::Envelope e;
  StampEnvelope(&e, request_id, clock_->NowMicros());
  return e;
}

Status InterfaceNode::Impl::Init(NodeOptions options) {
  options_ = std::move(options);
  clock_ = options_.clock != nullptr ? options_.clock : &system_clock_;
  log_ = options_.logger;
  if (log_ == nullptr) return Status::InvalidArgument("NodeOptions.logger is required");
  if (options_.agency_code.empty()) return Status::InvalidArgument("agency code is required");
  Result<CurveKeyPair> keys = CurveKeyPair::LoadFile(options_.key_file);
  if (!keys.ok()) return keys.status().WithContext("node key");
  keys_ = std::move(*keys);
  peers_ = std::make_unique<PeerDirectory>(&keys_);

  // Answers from other nodes: only keys the core vouched for.
  zap_ = std::make_unique<ZapHandler>(
      context_,
      [this](const std::string&, std::span<const uint8_t, 32> key) {
        return peers_->AgencyOfKey(key);
      },
      log_);
  IPN_RETURN_IF_ERROR(zap_->Start());
  answers_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
  ConfigureCurveServer(*answers_, keys_, "answers");
  answers_->set(zmq::sockopt::rcvhwm, 200000);
  try {
    answers_->bind(options_.answer_bind);
    answer_endpoint_ = answers_->get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot bind " + options_.answer_bind + ": " + e.what());
  }

  core_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
  ConfigureCurveClient(*core_, keys_, options_.core_public_key);
  core_->set(zmq::sockopt::routing_id, options_.agency_code);
  core_->set(zmq::sockopt::sndhwm, 100000);
  core_->set(zmq::sockopt::rcvhwm, 100000);
  IPN_RETURN_IF_ERROR(Handshake());

  // Only a node the core welcomed takes the agency's local endpoint.
  local_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
  local_->set(zmq::sockopt::linger, 0);
  local_->set(zmq::sockopt::router_mandatory, 1);
  local_->set(zmq::sockopt::sndhwm, 200000);
  local_->set(zmq::sockopt::rcvhwm, 200000);
  try {
    local_->bind(options_.local_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot bind " + options_.local_endpoint + ": " + e.what());
  }

  latency_ = &metrics_.GetHistogram("ipn_node_inquiry_latency_seconds",
                                    "Time from the agency's inquiry to its result");
  outgoing_depth_ =
      &metrics_.GetGauge("ipn_node_outgoing_inquiries", "Inquiries awaiting their end");
  incoming_depth_ = &metrics_.GetGauge("ipn_node_incoming_inquiries",
                                       "Forwarded inquiries awaiting the agency's answer");
  if (options_.metrics_port >= 0) {
    metrics_server_ = std::make_unique<MetricsServer>(&metrics_, [this] {
      return nlohmann::json{{"status", "ok"},
                            {"component", "node"},
                            {"agency", options_.agency_code},
                            {"outgoing", outgoing_depth_->value()},
                            {"incoming", incoming_depth_->value()}}
          .dump();
    });
    IPN_RETURN_IF_ERROR(metrics_server_->Start(options_.metrics_port));
  }
  log_->Info("node_started", {{"agency", options_.agency_code},
                              {"answer_endpoint", answer_endpoint_},
                              {"local_endpoint", options_.local_endpoint}});
  return Status::Ok();
}

// Sends Hello and waits for the Welcome, watching the handshake so that a refused key
// is reported as such rather than as a silent hang.
Status InterfaceNode::Impl::Handshake() {
  const std::string monitor_ep = "inproc://core-monitor";
  if (zmq_socket_monitor(core_->handle(), monitor_ep.c_str(),
                         ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0) {
    return Status::Internal("cannot monitor the core connection");
  }
  zmq::socket_t monitor(context_, zmq::socket_type::pair);
  monitor.set(zmq::sockopt::linger, 0);
  monitor.connect(monitor_ep);
  try {
    core_->connect(options_.core_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::InvalidArgument("bad core endpoint " + options_.core_endpoint + ": " + e.what());
  }
  v1::Envelope hello = Stamped("hello");
  hello.mutable_hello()->set_agency_code(options_.agency_code);
  hello.mutable_hello()->set_answer_endpoint(answer_endpoint_);
  hello.mutable_hello()->set_software_version("ipn-node 0.1");
  IPN_RETURN_IF_ERROR(SendEnvelope(*core_, hello));

  Status result = Status::DeadlineExceeded("the core at " + options_.core_endpoint +
                                           " did not welcome this node in time");
  const int64_t deadline = Now() + options_.handshake_timeout_us;
  bool done = false;
  while (!done && Now() < deadline) {
    zmq::pollitem_t items[] = {{core_->handle(), 0, ZMQ_POLLIN, 0},
                               {monitor.handle(), 0, ZMQ_POLLIN, 0}};
    PollSockets(items, 2,
                std::chrono::milliseconds(std::max<int64_t>(1, (deadline - Now()) / 1000)));
    if (items[1].revents & ZMQ_POLLIN) {
      zmq::message_t event, address;
      (void)monitor.recv(event);
      (void)monitor.recv(address);
      uint16_t id = 0;
      std::memcpy(&id, event.data(), sizeof(id));
      if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        result = Status::PermissionDenied(
            "the core refused this node's key: agency " + options_.agency_code +
            " is not registered with this key, suspended, or without an approved assessment");
        done = true;
      }
    }
    if (items[0].revents & ZMQ_POLLIN) {
      v1::Envelope e;
      Result<bool> got = ReceiveEnvelope(*core_, &e);
      if (got.ok() && *got && e.has_welcome()) {
        peers_->ReplaceAll(e.welcome());
        result = Status::Ok();
        done = true;
      } else if (got.ok() && *got && e.has_error()) {
        result = Status::PermissionDenied("the core refused Hello: " + e.error().reason());
        done = true;
      }
    }
  }
  zmq_socket_monitor(core_->handle(), nullptr, 0);
  return result;
}

Status InterfaceNode::Impl::Run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    zmq::pollitem_t items[] = {{core_->handle(), 0, ZMQ_POLLIN, 0},
                               {answers_->handle(), 0, ZMQ_POLLIN, 0},
                               {local_->handle(), 0, ZMQ_POLLIN, 0}};
    PollSockets(items, 3, std::chrono::milliseconds(50));
    for (int i = 0; i < 256; ++i) {
      v1::Envelope e;
      Result<bool> got = ReceiveEnvelope(*core_, &e);
      if (!got.ok()) {
        log_->Warn("malformed_from_core", {{"reason", got.status().message()}});
        continue;
      }
      if (!*got) break;
      HandleCore(e);
    }
    for (int i = 0; i < 256; ++i) {
      Incoming in;
      Result<bool> got = ReceiveFromRouter(*answers_, &in);
      if (!got.ok()) continue;
      if (!*got) break;
      HandleAnswer(in);
    }
    for (int i = 0; i < 256; ++i) {
      Incoming in;
      Result<bool> got = ReceiveFromRouter(*local_, &in);
      if (!got.ok()) {
        log_->Warn("malformed_local_message", {{"reason", got.status().message()}});
        continue;
      }
      if (!*got) break;
      HandleLocal(in);
    }
    ExpireLocalDeadlines();
    outgoing_depth_->Set(static_cast<int64_t>(outgoing_.size()));
    incoming_depth_->Set(static_cast<int64_t>(incoming_.size()));
  }
  log_->Info("node_stopping", {{"agency", options_.agency_code}});
  return Status::Ok();
}

void InterfaceNode::Impl::SendToCore(v1::Envelope e) {
  Status s = SendEnvelope(*core_, e);
  if (!s.ok()) log_->Error("send_to_core_failed", {{"reason", s.ToString()}});
}

void InterfaceNode::Impl::SendLocal(const std::string& client, const v1::Envelope& e) {
  Status s = SendToPeer(*local_, client, e);
  if (!s.ok())
    log_->Warn("local_delivery_failed", {{"request_id", e.request_id()}, {"reason", s.message()}});
}

void InterfaceNode::Impl::HandleLocal(Incoming& in) {
  v1::Envelope& e = in.envelope;
  switch (e.body_case()) {
    case v1::Envelope::kHello: {
      listeners_.insert(in.routing_id);
      if (e.hello().serves_inquiries()) servers_.push_back(in.routing_id);
      v1::Envelope ack = Stamped(e.request_id());
      ack.mutable_welcome();  // acknowledges the local Hello; peers are not shared locally
      SendLocal(in.routing_id, ack);
      return;
    }
    case v1::Envelope::kInquiry: return HandleLocalInquiry(in);
    case v1::Envelope::kIssueSymbolRequest: return HandleLocalIssueRequest(in);
    case v1::Envelope::kRecordQuery:
    case v1::Envelope::kTreeHeadRequest:
    case v1::Envelope::kStatsQuery: return HandleLocalRecordRequest(in);
    case v1::Envelope::kAgencyAnswer: return HandleAgencyAnswer(in);
    case v1::Envelope::kPing: {
      v1::Envelope pong = Stamped(e.request_id());
      pong.mutable_pong()->set_component("node");
      pong.mutable_pong()->set_status("ok");
      SendLocal(in.routing_id, pong);
      return;
    }
    default: {
      v1::Envelope err = Stamped(e.request_id());
      err.mutable_error()->set_code(v1::ERROR_CODE_MALFORMED);
      err.mutable_error()->set_reason("the node does not accept this message type locally");
      SendLocal(in.routing_id, err);
    }
  }
}

void InterfaceNode::Impl::HandleLocalInquiry(Incoming& in) {
  const std::string& request_id = in.envelope.request_id();
  if (request_id.empty() || outgoing_.count(request_id) != 0) {
    v1::Envelope r = Stamped(request_id);
    v1::InquiryResult* res = r.mutable_inquiry_result();
    res->set_outcome(v1::OUTCOME_REFUSED);
    res->set_deny_reason(request_id.empty() ? v1::DENY_REASON_MALFORMED
                                            : v1::DENY_REASON_DUPLICATE_REQUEST);
    res->set_explanation(request_id.empty() ? "an inquiry needs a request id"
                                            : "request id " + request_id + " is already in flight");
    SendLocal(in.routing_id, r);
    return;
  }
  Outgoing o;
  o.client = in.routing_id;
  o.provider = in.envelope.inquiry().provider_code();
  o.started_us = Now();
  o.deadline_us = o.started_us + options_.local_timeout_us;
  outgoing_.emplace(request_id, std::move(o));
  in.envelope.mutable_inquiry()->set_inquirer_code(options_.agency_code);
  SendToCore(std::move(in.envelope));
}

void InterfaceNode::Impl::HandleLocalIssueRequest(Incoming& in) {
  issue_clients_[in.envelope.request_id()] = in.routing_id;
  SendToCore(in.envelope);
  WipeString(in.envelope.mutable_issue_symbol_request()->mutable_resident_code());
}

// The core decides who may read records (by this node's authenticated agency); the node
// only relays, remembering which local client asked.
void InterfaceNode::Impl::HandleLocalRecordRequest(Incoming& in) {
  const std::string& request_id = in.envelope.request_id();
  if (request_id.empty() || record_clients_.count(request_id) != 0) {
    v1::Envelope err = Stamped(request_id);
    err.mutable_error()->set_code(v1::ERROR_CODE_MALFORMED);
    err.mutable_error()->set_reason(request_id.empty() ? "a record query needs a request id"
                                                       : "request id already in flight");
    SendLocal(in.routing_id, err);
    return;
  }
  record_clients_[request_id] = in.routing_id;
  SendToCore(std::move(in.envelope));
}

bool InterfaceNode::Impl::RelayReply(const v1::Envelope& e) {
  auto it = record_clients_.find(e.request_id());
  if (it == record_clients_.end()) return false;
  SendLocal(it->second, e);
  record_clients_.erase(it);
  return true;
}

void InterfaceNode::Impl::HandleCore(v1::Envelope& e) {
  switch (e.body_case()) {
    case v1::Envelope::kRecordPage:
    case v1::Envelope::kTreeHeadResponse:
    case v1::Envelope::kStatsReport:
      if (!RelayReply(e)) log_->Warn("unexpected_from_core", {{"request_id", e.request_id()}});
      return;
    case v1::Envelope::kWelcome: peers_->ReplaceAll(e.welcome()); return;
    case v1::Envelope::kInquiryDecision: return HandleDecision(e);
    case v1::Envelope::kInquiryResult: return HandleResult(e);
    case v1::Envelope::kForwardedInquiry: return HandleForwardedInquiry(e);
    case v1::Envelope::kSymbolIssued: return HandleSymbolIssued(e);
    case v1::Envelope::kIssueSymbolResponse: {
      auto it = issue_clients_.find(e.request_id());
      if (it != issue_clients_.end()) {
        SendLocal(it->second, e);
        issue_clients_.erase(it);
      }
      return;
    }
    case v1::Envelope::kError: {
      log_->Warn("core_error", {{"request_id", e.request_id()}, {"reason", e.error().reason()}});
      if (RelayReply(e)) return;
      if (outgoing_.count(e.request_id()) != 0) {
        v1::InquiryResult r;
        r.set_outcome(v1::OUTCOME_FAILED);
        r.set_explanation("the core refused the message: " + e.error().reason());
        Deliver(e.request_id(), std::move(r), false);
      }
      return;
    }
    default: log_->Warn("unexpected_from_core", {{"request_id", e.request_id()}});
  }
}

void InterfaceNode::Impl::HandleDecision(const v1::Envelope& e) {
  auto it = outgoing_.find(e.request_id());
  if (it == outgoing_.end()) return;
  const v1::InquiryDecision& d = e.inquiry_decision();
  if (!d.accepted()) {
    v1::InquiryResult r;
    r.set_outcome(d.deny_reason() == v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER ? v1::OUTCOME_NOT_HELD
                                                                            : v1::OUTCOME_REFUSED);
    r.set_deny_reason(d.deny_reason());
    r.set_explanation(d.explanation());
    r.set_provider_code(it->second.provider);
    Deliver(e.request_id(), std::move(r), false);
    return;
  }
  it->second.accepted = true;
  if (d.has_provider_node()) (void)peers_->Vouch(d.provider_node());
  if (it->second.answered) {
    v1::InquiryResult r;
    r.set_outcome(it->second.outcome);
    r.set_provider_code(it->second.provider);
    r.set_payload(std::move(it->second.payload));
    Deliver(e.request_id(), std::move(r), true);
  }
}

void InterfaceNode::Impl::HandleResult(const v1::Envelope& e) {
  auto it = outgoing_.find(e.request_id());
  if (it == outgoing_.end()) return;
  if (it->second.answered && it->second.accepted) return;  // already delivered
  v1::InquiryResult r = e.inquiry_result();
  Deliver(e.request_id(), std::move(r), false);
}

void InterfaceNode::Impl::HandleAnswer(Incoming& in) {
  const v1::Answer& a = in.envelope.answer();
  auto it = outgoing_.find(in.envelope.request_id());
  if (!in.envelope.has_answer() || it == outgoing_.end() || it->second.provider != in.user_id ||
      it->second.answered) {
    log_->Warn("unexpected_answer",
               {{"request_id", in.envelope.request_id()}, {"from", in.user_id}});
    return;
  }
  std::string plain;
  Status s = peers_->Open(in.user_id, a.nonce(), a.sealed_payload(), &plain);
  if (!s.ok()) {
    log_->Warn("answer_rejected",
               {{"request_id", in.envelope.request_id()}, {"reason", s.message()}});
    return;
  }
  Outgoing& o = it->second;
  o.answered = true;
  o.outcome = a.outcome();
  o.payload = std::move(plain);
  if (o.accepted) {
    v1::InquiryResult r;
    r.set_outcome(o.outcome);
    r.set_provider_code(o.provider);
    r.set_payload(std::move(o.payload));
    Deliver(in.envelope.request_id(), std::move(r), true);
  }
}

void InterfaceNode::Impl::Deliver(const std::string& request_id, v1::InquiryResult result,
                                  bool send_receipt) {
  auto it = outgoing_.find(request_id);
  if (it == outgoing_.end()) return;
  v1::Envelope e = Stamped(request_id);
  *e.mutable_inquiry_result() = std::move(result);
  const v1::Outcome outcome = e.inquiry_result().outcome();
  SendLocal(it->second.client, e);
  WipeString(e.mutable_inquiry_result()->mutable_payload());
  WipeString(&it->second.payload);
  latency_->ObserveMicros(Now() - it->second.started_us);
  metrics_
      .GetCounter("ipn_node_inquiries_total", "Inquiries by outcome",
                  {{"outcome", OutcomeLabel(outcome)}})
      .Add();
  outgoing_.erase(it);
  if (send_receipt) {
    v1::Envelope receipt = Stamped(request_id);
    receipt.mutable_receipt()->set_received(true);
    receipt.mutable_receipt()->set_outcome(outcome);
    SendToCore(std::move(receipt));
  }
}

void InterfaceNode::Impl::HandleForwardedInquiry(const v1::Envelope& e) {
  const v1::ForwardedInquiry& f = e.forwarded_inquiry();
  Incoming_ x;
  x.inquirer = f.inquirer_code();
  x.request_id = e.request_id();
  x.inquirer_node = f.inquirer_node();
  x.deadline_us = f.deadline_unix_us();
  Status vouched = peers_->Vouch(f.inquirer_node());
  if (!vouched.ok()) {
    log_->Warn("bad_forward", {{"request_id", x.request_id}, {"reason", vouched.message()}});
    return;
  }
  if (servers_.empty()) {
    AnswerInquirer(x, v1::OUTCOME_FAILED, "", false, "the agency system is not connected");
    return;
  }
  const std::string local_id = std::to_string(++local_seq_);
  const std::string server = servers_[next_server_++ % servers_.size()];
  v1::Envelope to_agency = Stamped(local_id);
  *to_agency.mutable_forwarded_inquiry() = f;
  SendLocal(server, to_agency);
  incoming_.emplace(local_id, std::move(x));
}

void InterfaceNode::Impl::HandleAgencyAnswer(Incoming& in) {
  auto it = incoming_.find(in.envelope.request_id());
  v1::AgencyAnswer* a = in.envelope.mutable_agency_answer();
  if (it == incoming_.end()) {
    WipeString(a->mutable_payload());
    log_->Warn("unexpected_agency_answer", {{"local_id", in.envelope.request_id()}});
    return;
  }
  v1::Outcome outcome = a->outcome();
  if (outcome != v1::OUTCOME_PROVIDED && outcome != v1::OUTCOME_NOT_HELD)
    outcome = v1::OUTCOME_FAILED;
  AnswerInquirer(it->second, outcome, a->payload(), a->non_disclosure(),
                 outcome == v1::OUTCOME_FAILED ? "the agency system could not answer" : "");
  WipeString(a->mutable_payload());
  incoming_.erase(it);
}

void InterfaceNode::Impl::AnswerInquirer(const Incoming_& x, v1::Outcome outcome,
                                         std::string_view payload, bool non_disclosure,
                                         const std::string& detail) {
  // 1. The answer, sealed end to end, straight to the inquirer's node.
  v1::Envelope answer = Stamped(x.request_id);
  v1::Answer* a = answer.mutable_answer();
  a->set_provider_code(options_.agency_code);
  a->set_outcome(outcome);
  Status sealed =
      peers_->Seal(x.inquirer, payload, a->mutable_nonce(), a->mutable_sealed_payload());
  if (!sealed.ok()) {
    outcome = v1::OUTCOME_FAILED;
    log_->Error("seal_failed", {{"request_id", x.request_id}, {"reason", sealed.message()}});
  } else if (zmq::socket_t* peer = PeerSocket(x.inquirer_node)) {
    Status s = SendEnvelope(*peer, answer);
    if (!s.ok())
      log_->Warn("answer_send_failed", {{"request_id", x.request_id}, {"reason", s.message()}});
  }
  // 2. The outcome, never the content, to the core.
  v1::Envelope report = Stamped(x.request_id);
  v1::ProvisionOutcome* o = report.mutable_provision_outcome();
  o->set_outcome(outcome);
  o->set_non_disclosure(non_disclosure);
  o->set_detail(detail);
  o->set_inquirer_code(x.inquirer);
  SendToCore(std::move(report));
  metrics_
      .GetCounter("ipn_node_provisions_total", "Forwarded inquiries answered, by outcome",
                  {{"outcome", OutcomeLabel(outcome)}})
      .Add();
}

zmq::socket_t* InterfaceNode::Impl::PeerSocket(const v1::PeerNode& peer) {
  auto it = peer_sockets_.find(peer.agency_code());
  if (it != peer_sockets_.end()) return it->second.get();
  if (peer.curve_public_key().size() != 32) return nullptr;
  auto socket = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
  ConfigureCurveClient(*socket, keys_,
                       std::span<const uint8_t, 32>(
                           reinterpret_cast<const uint8_t*>(peer.curve_public_key().data()), 32));
  socket->set(zmq::sockopt::routing_id, options_.agency_code);
  socket->set(zmq::sockopt::sndhwm, 100000);
  try {
    socket->connect(peer.answer_endpoint());
  } catch (const zmq::error_t& e) {
    log_->Warn("peer_connect_failed", {{"peer", peer.agency_code()}, {"reason", e.what()}});
    return nullptr;
  }
  zmq::socket_t* raw = socket.get();
  peer_sockets_[peer.agency_code()] = std::move(socket);
  return raw;
}

void InterfaceNode::Impl::HandleSymbolIssued(const v1::Envelope& e) {
  for (const std::string& client : listeners_) SendLocal(client, e);
  log_->Info("symbol_delivered",
             {{"request_id", e.request_id()}, {"listeners", listeners_.size()}});
}

void InterfaceNode::Impl::ExpireLocalDeadlines() {
  const int64_t now = Now();
  if (now < next_expiry_check_us_) return;  // a scan every 10 ms is plenty for seconds
  next_expiry_check_us_ = now + 10'000;
  std::vector<std::string> expired;
  for (const auto& [id, o] : outgoing_) {
    if (o.deadline_us <= now) expired.push_back(id);
  }
  for (const std::string& id : expired) {
    v1::InquiryResult r;
    r.set_outcome(v1::OUTCOME_TIMED_OUT);
    r.set_explanation("no end to this inquiry from the network in time");
    Deliver(id, std::move(r), false);
  }
}

InterfaceNode::InterfaceNode(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InterfaceNode::~InterfaceNode() = default;

Result<std::unique_ptr<InterfaceNode>> InterfaceNode::Open(NodeOptions options) {
  auto impl = std::make_unique<Impl>();
  IPN_RETURN_IF_ERROR(impl->Init(std::move(options)));
  return std::unique_ptr<InterfaceNode>(new InterfaceNode(std::move(impl)));
}

std::string InterfaceNode::answer_endpoint() const {
  return impl_->answer_endpoint();
}
int InterfaceNode::metrics_port() const {
  return impl_->metrics_port();
}
Status InterfaceNode::Run(const std::atomic<bool>& stop) {
  return impl_->Run(stop);
}

}  // namespace ipn::interface
