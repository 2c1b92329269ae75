// InterfaceNode: start-up, the handshake with the core, the event loop and local
// dispatch. The inquirer side is in node_inquirer.cc, the provider side in
// node_provider.cc; node_impl.h draws the data path.
#include "interface/interface_node.h"

#include <chrono>
#include <cstring>

#include "common/file_util.h"
#include "common/limits.h"
#include "common/wipe_guard.h"
#include "common/zmq_call.h"
#include "interface/node_impl.h"

namespace ipn::interface {

namespace {
constexpr int kMaxMessagesPerTurn = 256;  // per socket and loop turn: no socket starves
}  // namespace

InterfaceNode::Impl::~Impl() {
  if (metrics_server_) metrics_server_->Stop();
  peer_sockets_.clear();
  core_watch_.reset();
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
  for (size_t at = 0; at <= options_.core_endpoint.size();) {
    size_t comma = options_.core_endpoint.find(',', at);
    if (comma == std::string::npos) comma = options_.core_endpoint.size();
    if (comma > at) core_endpoints_.push_back(options_.core_endpoint.substr(at, comma - at));
    at = comma + 1;
  }
  if (core_endpoints_.empty()) return Status::InvalidArgument("the core's endpoint is required");
  Result<CurveKeyPair> keys = CurveKeyPair::LoadFile(options_.key_file);
  if (!keys.ok()) return keys.status().WithContext("node key");
  keys_ = std::move(*keys);
  peers_ = std::make_unique<PeerDirectory>(&keys_);
  stats_ = std::make_unique<NodeStats>(metrics_);
  IPN_RETURN_IF_ERROR(OpenSockets());
  if (options_.metrics_port >= 0) {
    metrics_server_ = std::make_unique<MetricsServer>(&metrics_, [this] {
      return nlohmann::json{{"status", "ok"},
                            {"component", "node"},
                            {"agency", options_.agency_code},
                            {"outgoing", stats_->outgoing.value()},
                            {"incoming", stats_->incoming.value()}}
          .dump();
    });
    IPN_RETURN_IF_ERROR(metrics_server_->Start(options_.metrics_port));
  }
  log_->Info("node_started", {{"agency", options_.agency_code},
                              {"answer_endpoint", answer_endpoint_},
                              {"local_endpoint", options_.local_endpoint}});
  return Status::Ok();
}

// The answer endpoint (only keys the core vouched for), the core connection and its
// handshake, and — only once the core welcomed this node — the agency's local endpoint.
Status InterfaceNode::Impl::OpenSockets() {
  zap_ = std::make_unique<ZapHandler>(
      context_,
      [this](const std::string&, std::span<const uint8_t, 32> key) {
        return peers_->AgencyOfKey(key);
      },
      log_);
  IPN_RETURN_IF_ERROR(zap_->Start());
  IPN_RETURN_IF_ERROR(BindAnswers());
  Status core = ZmqCall("core socket", [&] {
    core_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    if (Status s = ConfigureCurveClient(*core_, keys_, options_.core_public_key); !s.ok()) {
      return s;
    }
    core_->set(zmq::sockopt::routing_id, options_.agency_code);
    core_->set(zmq::sockopt::sndhwm, 100000);
    core_->set(zmq::sockopt::rcvhwm, 100000);
    core_->set(zmq::sockopt::maxmsgsize, limits::kMaxFromCoreFrameBytes);
    // A replicated core: every site's endpoint is connected, and only the leader accepts
    // (followers bind nothing). Messages go only to connections that are up, so they all
    // reach the leader, whichever site it is; a failover is a reconnection.
    if (core_endpoints_.size() > 1) core_->set(zmq::sockopt::immediate, 1);
    return EnableHeartbeat(*core_);
  });
  IPN_RETURN_IF_ERROR(core);
  IPN_RETURN_IF_ERROR(Handshake());
  return ZmqCall("bind " + options_.local_endpoint, [&] {
    local_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
    local_->set(zmq::sockopt::linger, 0);
    // A send to a local system that is gone fails at once (EHOSTUNREACH) instead of being
    // dropped silently: that is how a vanished serving client leaves the rotation.
    local_->set(zmq::sockopt::router_mandatory, 1);
    local_->set(zmq::sockopt::sndhwm, 200000);
    local_->set(zmq::sockopt::rcvhwm, 200000);
    local_->set(zmq::sockopt::maxmsgsize, limits::kMaxLocalFrameBytes);
    local_->bind(options_.local_endpoint);
  });
}

// Binds the endpoint where peers send answers: the one this node had before a restart if
// it kept one (peers' connections then heal by themselves), else `answer_bind`.
Status InterfaceNode::Impl::BindAnswers() {
  Status socket = ZmqCall("answer socket", [&] {
    answers_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
    if (Status s = ConfigureCurveServer(*answers_, keys_, "answers"); !s.ok()) return s;
    answers_->set(zmq::sockopt::rcvhwm, 200000);
    answers_->set(zmq::sockopt::maxmsgsize, limits::kMaxAnswerFrameBytes);
    return EnableHeartbeat(*answers_);
  });
  IPN_RETURN_IF_ERROR(socket);
  std::string kept;
  if (!options_.answer_endpoint_file.empty()) {
    if (Result<std::string> text = ReadFile(options_.answer_endpoint_file); text.ok()) {
      kept = text->substr(0, text->find('\n'));
    }
  }
  Status bound = Status::NotFound("no kept answer endpoint");
  if (!kept.empty()) {
    bound = ZmqCall("bind " + kept, [&] { answers_->bind(kept); });
    if (!bound.ok()) {
      log_->Warn("answer_endpoint_moved", {{"kept", kept}, {"reason", bound.message()}});
    }
  }
  if (!bound.ok()) {
    IPN_RETURN_IF_ERROR(
        ZmqCall("bind " + options_.answer_bind, [&] { answers_->bind(options_.answer_bind); }));
  }
  answer_endpoint_ = answers_->get(zmq::sockopt::last_endpoint);
  if (!options_.answer_endpoint_file.empty() && answer_endpoint_ != kept) {
    IPN_RETURN_IF_ERROR(WriteFileAtomic(options_.answer_endpoint_file, answer_endpoint_ + "\n")
                            .WithContext("keep the answer endpoint"));
  }
  return Status::Ok();
}

// Sends Hello and waits for the Welcome, watching the handshake so that a refused key
// is reported as such rather than as a silent hang.
Status InterfaceNode::Impl::Handshake() {
  Result<std::unique_ptr<ConnectionWatch>> watch = ConnectionWatch::Start(context_, *core_);
  if (!watch.ok()) return watch.status();
  core_watch_ = std::move(*watch);
  for (const std::string& endpoint : core_endpoints_) {
    Status connected =
        ZmqCall("connect to the core at " + endpoint, [&] { core_->connect(endpoint); });
    if (!connected.ok()) return connected;
  }
  // One core: queued until the connection is up. Several: said to whichever accepts.
  if (core_endpoints_.size() == 1) SendHello();

  const int64_t deadline = Now() + options_.handshake_timeout_us;
  while (Now() < deadline) {
    zmq::pollitem_t items[] = {{core_->handle(), 0, ZMQ_POLLIN, 0},
                               {core_watch_->handle(), 0, ZMQ_POLLIN, 0}};
    Result<int> ready = PollSockets(
        items, 2, std::chrono::milliseconds(std::max<int64_t>(1, (deadline - Now()) / 1000)));
    if (!ready.ok()) return ready.status().WithContext("waiting for the core's welcome");
    if (items[1].revents & ZMQ_POLLIN) {
      Result<std::vector<ConnectionWatch::Event>> events = core_watch_->Take();
      if (!events.ok()) return events.status();
      for (ConnectionWatch::Event ev : *events) {
        if (ev == ConnectionWatch::Event::kConnected) {
          ++core_sessions_;
          if (core_endpoints_.size() > 1) SendHello();
        }
        if (ev == ConnectionWatch::Event::kRefused) {
          return Status::PermissionDenied(
              "the core refused this node's key: agency " + options_.agency_code +
              " is not registered with this key, suspended, or without an approved assessment");
        }
      }
    }
    if (items[0].revents & ZMQ_POLLIN) {
      v1::Envelope e;
      Result<bool> got = ReceiveEnvelope(*core_, &e);
      if (got.ok() && *got && e.has_welcome()) {
        peers_->ReplaceAll(e.welcome());
        rate_.Set(e.welcome().rate_per_second(), e.welcome().burst(), Now());
        log_->Info("welcomed", {{"policy_version", e.welcome().policy_version()},
                                {"peers", e.welcome().peers_size()}});
        return Status::Ok();
      }
      if (got.ok() && *got && e.has_error()) {
        return Status::PermissionDenied("the core refused Hello: " + e.error().reason());
      }
    }
  }
  return Status::DeadlineExceeded("the core at " + options_.core_endpoint +
                                  " did not welcome this node in time");
}

Status InterfaceNode::Impl::Run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    zmq::pollitem_t items[] = {{core_->handle(), 0, ZMQ_POLLIN, 0},
                               {answers_->handle(), 0, ZMQ_POLLIN, 0},
                               {local_->handle(), 0, ZMQ_POLLIN, 0},
                               {core_watch_->handle(), 0, ZMQ_POLLIN, 0}};
    Result<int> ready = PollSockets(items, 4, std::chrono::milliseconds(50));
    if (!ready.ok()) {
      log_->Error("node_poll_failed", {{"reason", ready.status().ToString()}});
      return ready.status();
    }
    // Connection events first: a re-made session says Hello before anything else goes.
    if (items[3].revents & ZMQ_POLLIN) WatchCore();
    ReceiveAll();
    if (welcome_due_ && Now() >= hello_again_us_) {
      SendHello();
      hello_again_us_ = Now() + kHelloAgainUs;
    }
    ExpireLocalDeadlines();
    stats_->outgoing.Set(static_cast<int64_t>(pending_.size()));
    stats_->incoming.Set(static_cast<int64_t>(served_.size()));
  }
  log_->Info("node_stopping", {{"agency", options_.agency_code}});
  return Status::Ok();
}

void InterfaceNode::Impl::ReceiveAll() {
  for (int i = 0; i < kMaxMessagesPerTurn; ++i) {
    v1::Envelope e;
    Result<bool> got = ReceiveEnvelope(*core_, &e);
    if (!got.ok()) {
      log_->Warn("malformed_from_core", {{"reason", got.status().message()}});
      continue;
    }
    if (!*got) break;
    HandleCore(e);
  }
  for (int i = 0; i < kMaxMessagesPerTurn; ++i) {
    Incoming in;
    Result<bool> got = ReceiveFromRouter(*answers_, &in);
    if (!got.ok()) continue;
    if (!*got) break;
    HandleAnswer(in);
  }
  for (int i = 0; i < kMaxMessagesPerTurn; ++i) {
    Incoming in;
    Result<bool> got = ReceiveFromRouter(*local_, &in);
    if (!got.ok()) {
      log_->Warn("malformed_local_message", {{"reason", got.status().message()}});
      continue;
    }
    if (!*got) break;
    HandleLocal(in);
  }
}

void InterfaceNode::Impl::SendToCore(const v1::Envelope& e) {
  Status s = SendEnvelope(*core_, e);
  if (!s.ok()) log_->Error("send_to_core_failed", {{"reason", s.ToString()}});
}

Status InterfaceNode::Impl::SendLocal(const std::string& client, const v1::Envelope& e) {
  Status s = SendToPeer(*local_, client, e);
  if (!s.ok())
    log_->Warn("local_delivery_failed", {{"request_id", e.request_id()}, {"reason", s.message()}});
  return s;
}

void InterfaceNode::Impl::HandleLocal(Incoming& in) {
  v1::Envelope& e = in.envelope;
  switch (e.body_case()) {
    case v1::Envelope::kHello: {
      const v1::Hello& hello = e.hello();
      if (hello.serves_inquiries()) {
        // The items it answers (Hello.items): past the limits, the Hello is refused and
        // changes nothing; the client is told why.
        Status joined = served_.AddServer(
            in.routing_id, std::vector<std::string>(hello.items().begin(), hello.items().end()));
        if (!joined.ok()) {
          log_->Warn("local_hello_refused", {{"reason", joined.message()}});
          v1::Envelope err = Stamped(e.request_id());
          err.mutable_error()->set_code(v1::ERROR_CODE_MALFORMED);
          err.mutable_error()->set_reason("Hello refused: " + joined.message());
          (void)SendLocal(in.routing_id, err);
          return;
        }
      }
      listeners_.insert(in.routing_id);
      v1::Envelope ack = Stamped(e.request_id());
      // Acknowledges the local Hello. Peers are not shared locally; the core's key is, so
      // that the registry's system can seal resident codes to the core.
      ack.mutable_welcome()->set_core_public_key(options_.core_public_key.data(),
                                                 options_.core_public_key.size());
      (void)SendLocal(in.routing_id, ack);
      if (hello.serves_inquiries()) ServeParked();
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
      (void)SendLocal(in.routing_id, pong);
      return;
    }
    default: {
      v1::Envelope err = Stamped(e.request_id());
      err.mutable_error()->set_code(v1::ERROR_CODE_MALFORMED);
      err.mutable_error()->set_reason("the node does not accept this message type locally");
      (void)SendLocal(in.routing_id, err);
    }
  }
}

void InterfaceNode::Impl::HandleLocalIssueRequest(Incoming& in) {
  // A code in clear is wiped here and goes no further: the SDK seals codes to the core's
  // key (AgencyClient::RequestSymbol), and a clear one would sit in ZeroMQ's buffers,
  // which nobody wipes, on every hop.
  v1::IssueSymbolRequest* req = in.envelope.mutable_issue_symbol_request();
  WipeOnExit wipe_code(req->mutable_resident_code());
  if (!req->resident_code().empty()) {
    v1::Envelope r = Stamped(in.envelope.request_id());
    r.mutable_issue_symbol_response()->set_agency_code(req->agency_code());
    r.mutable_issue_symbol_response()->set_person_ref(req->person_ref());
    r.mutable_issue_symbol_response()->set_error_code(v1::ERROR_CODE_MALFORMED);
    r.mutable_issue_symbol_response()->set_reason(
        "a resident code must come sealed to the core's key (sealed_resident_code)");
    (void)SendLocal(in.routing_id, r);
    return;
  }
  issue_clients_[in.envelope.request_id()] = in.routing_id;
  SendToCore(in.envelope);
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
    (void)SendLocal(in.routing_id, err);
    return;
  }
  record_clients_[request_id] = in.routing_id;
  SendToCore(in.envelope);
}

bool InterfaceNode::Impl::RelayReply(const v1::Envelope& e) {
  auto it = record_clients_.find(e.request_id());
  if (it == record_clients_.end()) return false;
  (void)SendLocal(it->second, e);
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
    case v1::Envelope::kWelcome:
      peers_->ReplaceAll(e.welcome());
      rate_.Set(e.welcome().rate_per_second(), e.welcome().burst(), Now());
      // A core sends Welcomes only to nodes that said Hello to it: this session is up.
      if (welcome_due_) {
        welcome_due_ = false;
        ResendToCore();
      }
      return;
    case v1::Envelope::kInquiryDecision: return HandleDecision(e);
    case v1::Envelope::kInquiryResult: {
      if (auto d = pending_.OnResult(e.request_id(), e.inquiry_result())) Deliver(std::move(*d));
      return;
    }
    case v1::Envelope::kForwardedInquiry: return HandleForwardedInquiry(e);
    case v1::Envelope::kSymbolIssued: return HandleSymbolIssued(e);
    case v1::Envelope::kIssueSymbolResponse: {
      auto it = issue_clients_.find(e.request_id());
      if (it != issue_clients_.end()) {
        (void)SendLocal(it->second, e);
        issue_clients_.erase(it);
      }
      return;
    }
    case v1::Envelope::kError: {
      log_->Warn("core_error", {{"request_id", e.request_id()}, {"reason", e.error().reason()}});
      if (RelayReply(e)) return;
      if (auto d = pending_.OnCoreError(e.request_id(), e.error().reason())) {
        Deliver(std::move(*d));
      }
      return;
    }
    default: log_->Warn("unexpected_from_core", {{"request_id", e.request_id()}});
  }
}

void InterfaceNode::Impl::HandleSymbolIssued(const v1::Envelope& e) {
  for (const std::string& client : listeners_) (void)SendLocal(client, e);
  log_->Info("symbol_delivered",
             {{"request_id", e.request_id()}, {"listeners", listeners_.size()}});
}

// Both sides' deadlines: inquiries with no end in time, and forwarded inquiries the
// agency never answered. A scan every 10 ms is plenty for deadlines of seconds.
void InterfaceNode::Impl::ExpireLocalDeadlines() {
  const int64_t now = Now();
  if (now < next_expiry_check_us_) return;
  next_expiry_check_us_ = now + 10'000;
  for (Delivery& d : pending_.Expire(now)) Deliver(std::move(d));
  outbox_.Expire(now);
  if (const size_t dropped = unopened_.Expire(now); dropped > 0) {
    stats_->dropped_answers.Add(dropped);
    log_->Warn("held_answers_expired", {{"answers", dropped}});
  }
  ExpireParked(now);
  // The core has already timed these out and recorded it; they are only forgotten here.
  for (const ServedInquiry& x : served_.Expire(now)) {
    log_->Warn("agency_did_not_answer", {{"exchange_id", x.exchange_id}});
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
