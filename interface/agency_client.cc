// AgencyClient: DEALER on the node's local endpoint, one Envelope per message.
#include "interface/agency_client.h"

#include <sodium.h>

#include <optional>
#include <zmq.hpp>

#include "common/connection_watch.h"
#include "common/encoding.h"
#include "common/envelope_io.h"
#include "common/limits.h"
#include "common/wipe_guard.h"
#include "common/zmq_call.h"

namespace ipn::interface {

namespace {
int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

AgencyClient::AgencyClient() {
  uint8_t r[6];
  randombytes_buf(r, sizeof(r));
  id_prefix_ = HexEncode(r) + "-";
}

AgencyClient::~AgencyClient() {
  watch_.reset();
  socket_.reset();
  context_.reset();
}

std::string AgencyClient::NextRequestId() {
  return id_prefix_ + std::to_string(++next_id_);
}

Status AgencyClient::Send(const v1::Envelope& e) {
  return SendEnvelope(*socket_, e);
}

Result<std::unique_ptr<AgencyClient>> AgencyClient::Connect(const std::string& node_endpoint,
                                                            bool serve,
                                                            std::chrono::milliseconds timeout) {
  return Connect(node_endpoint, ConnectOptions{.serve = serve, .items = {}, .timeout = timeout});
}

Result<std::unique_ptr<AgencyClient>> AgencyClient::Connect(const std::string& node_endpoint,
                                                            ConnectOptions options) {
  const std::chrono::milliseconds timeout = options.timeout;
  std::unique_ptr<AgencyClient> client(new AgencyClient());
  IPN_RETURN_IF_ERROR(ZmqCall("create the node socket", [&] {
    client->context_ = std::make_unique<zmq::context_t>(1);
    client->socket_ = std::make_unique<zmq::socket_t>(*client->context_, zmq::socket_type::dealer);
    client->socket_->set(zmq::sockopt::linger, 0);
    client->socket_->set(zmq::sockopt::sndhwm, 100000);
    client->socket_->set(zmq::sockopt::rcvhwm, 100000);
    client->socket_->set(zmq::sockopt::maxmsgsize, limits::kMaxFromNodeFrameBytes);
  }));
  Result<std::unique_ptr<ConnectionWatch>> watch =
      ConnectionWatch::Start(*client->context_, *client->socket_);
  if (!watch.ok()) return watch.status();
  client->watch_ = std::move(*watch);
  client->serve_ = options.serve;
  if (options.serve) client->items_ = std::move(options.items);
  Status connected = ZmqCall("bad node endpoint " + node_endpoint,
                             [&] { client->socket_->connect(node_endpoint); });
  if (!connected.ok()) return Status::InvalidArgument(connected.message());
  IPN_RETURN_IF_ERROR(client->SendHello());
  zmq::pollitem_t item{client->socket_->handle(), 0, ZMQ_POLLIN, 0};
  Result<int> ready = PollSockets(&item, 1, timeout);
  if (!ready.ok()) return ready.status();
  v1::Envelope ack;
  Result<bool> got = ReceiveEnvelope(*client->socket_, &ack);
  if (!got.ok()) return got.status();
  if (*got && ack.has_error()) {
    return Status::InvalidArgument("the node at " + node_endpoint +
                                   " refused Hello: " + ack.error().reason());
  }
  if (!*got || !ack.has_welcome()) {
    return Status::Unavailable("the node at " + node_endpoint + " did not answer");
  }
  client->core_public_key_ = ack.welcome().core_public_key();
  return client;
}

Status AgencyClient::SendHello() {
  v1::Envelope hello;
  StampEnvelope(&hello, "local-hello", NowMicros());
  hello.mutable_hello()->set_serves_inquiries(serve_);
  for (const std::string& item : items_) hello.mutable_hello()->add_items(item);
  return Send(hello);
}

Status AgencyClient::WatchNode() {
  Result<std::vector<ConnectionWatch::Event>> events = watch_->Take();
  if (!events.ok()) return events.status();
  for (ConnectionWatch::Event ev : *events) {
    if (ev == ConnectionWatch::Event::kConnected && ++sessions_ > 1) {
      IPN_RETURN_IF_ERROR(SendHello());
    }
  }
  return Status::Ok();
}

Status AgencyClient::Submit(InquiryRequest request) {
  v1::Envelope e;
  if (request.request_id.empty()) request.request_id = NextRequestId();
  StampEnvelope(&e, request.request_id, NowMicros());
  v1::Inquiry* q = e.mutable_inquiry();
  q->set_inquirer_symbol(request.symbol.data(), request.symbol.size());
  q->set_business_code(request.business);
  q->set_provider_code(request.provider);
  q->set_item_code(request.item);
  for (const auto& [k, v] : request.parameters) (*q->mutable_parameters())[k] = v;
  if (const size_t bytes = e.ByteSizeLong(); bytes > limits::kMaxInquiryBytes) {
    return Status::InvalidArgument("inquiry " + request.request_id + " is " +
                                   std::to_string(bytes) + " bytes; the limit is " +
                                   std::to_string(limits::kMaxInquiryBytes));
  }
  return Send(e);
}

Status AgencyClient::Poll(std::chrono::milliseconds timeout, const Callbacks& callbacks) {
  zmq::pollitem_t items[] = {{socket_->handle(), 0, ZMQ_POLLIN, 0},
                             {watch_->handle(), 0, ZMQ_POLLIN, 0}};
  Result<int> ready = PollSockets(items, 2, timeout);
  if (!ready.ok()) return ready.status();
  if (items[1].revents & ZMQ_POLLIN) IPN_RETURN_IF_ERROR(WatchNode());
  for (;;) {
    v1::Envelope e;
    Result<bool> got = ReceiveEnvelope(*socket_, &e);
    if (!got.ok()) return got.status();
    if (!*got) return Status::Ok();
    switch (e.body_case()) {
      case v1::Envelope::kInquiryResult: {
        v1::InquiryResult* r = e.mutable_inquiry_result();
        InquiryReply reply;
        reply.request_id = e.request_id();
        reply.outcome = r->outcome();
        reply.deny_reason = r->deny_reason();
        reply.explanation = r->explanation();
        reply.provider = r->provider_code();
        reply.exchange_id = r->exchange_id();
        reply.payload = r->payload();
        WipeString(r->mutable_payload());
        if (callbacks.on_reply) callbacks.on_reply(std::move(reply));
        break;
      }
      case v1::Envelope::kSymbolIssued: {
        IssuedSymbol s;
        s.person_ref = e.symbol_issued().person_ref();
        const std::string& b = e.symbol_issued().agency_symbol();
        s.symbol.assign(b.begin(), b.end());
        WipeString(e.mutable_symbol_issued()->mutable_agency_symbol());
        if (callbacks.on_symbol) {
          callbacks.on_symbol(std::move(s));
        } else {
          // Nobody here takes symbols: the one that came is wiped, not just dropped.
          sodium_memzero(s.symbol.data(), s.symbol.size());
        }
        break;
      }
      case v1::Envelope::kIssueSymbolResponse:
        if (callbacks.on_issue_response) callbacks.on_issue_response(e.issue_symbol_response());
        break;
      case v1::Envelope::kForwardedInquiry: {
        v1::Envelope reply;
        StampEnvelope(&reply, e.request_id(), NowMicros());
        if (callbacks.on_inquiry) {
          *reply.mutable_agency_answer() = callbacks.on_inquiry(e.forwarded_inquiry());
        } else {
          reply.mutable_agency_answer()->set_outcome(v1::OUTCOME_FAILED);
        }
        Status s = Send(reply);
        WipeString(reply.mutable_agency_answer()->mutable_payload());
        IPN_RETURN_IF_ERROR(s);
        break;
      }
      case v1::Envelope::kRecordPage:
      case v1::Envelope::kTreeHeadResponse:
      case v1::Envelope::kStatsReport:
      case v1::Envelope::kError:
        if (callbacks.on_response) callbacks.on_response(e);
        break;
      default: break;
    }
  }
}

Status AgencyClient::PollUntil(std::chrono::steady_clock::time_point deadline,
                               const Callbacks& callbacks, const std::function<bool()>& done,
                               std::string_view timeout_message) {
  while (!done()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    // Checked before each poll, so a wait whose end arrived in the last poll succeeds
    // even when the deadline has just passed.
    if (left.count() <= 0) return Status::DeadlineExceeded(timeout_message);
    IPN_RETURN_IF_ERROR(Poll(left, callbacks));
  }
  return Status::Ok();
}

Result<v1::Envelope> AgencyClient::Call(v1::Envelope request, std::chrono::milliseconds timeout) {
  const std::string id = NextRequestId();
  StampEnvelope(&request, id, NowMicros());
  IPN_RETURN_IF_ERROR(Send(request));
  std::optional<v1::Envelope> mine;
  Callbacks cb;
  cb.on_response = [&](v1::Envelope& e) {
    if (e.request_id() == id) mine = std::move(e);
  };
  IPN_RETURN_IF_ERROR(PollUntil(
      std::chrono::steady_clock::now() + timeout, cb, [&] { return mine.has_value(); },
      "no reply from the core in time"));
  if (mine->has_error()) {
    const std::string& reason = mine->error().reason();
    switch (mine->error().code()) {
      case v1::ERROR_CODE_PERMISSION_DENIED: return Status::PermissionDenied(reason);
      case v1::ERROR_CODE_MALFORMED: return Status::InvalidArgument(reason);
      case v1::ERROR_CODE_NOT_FOUND: return Status::NotFound(reason);
      case v1::ERROR_CODE_UNAVAILABLE: return Status::Unavailable(reason);
      default: return Status::Internal(reason);
    }
  }
  return std::move(*mine);
}

Result<v1::RecordPage> AgencyClient::QueryRecords(v1::RecordQuery query,
                                                  std::chrono::milliseconds timeout) {
  v1::Envelope e;
  *e.mutable_record_query() = std::move(query);
  Result<v1::Envelope> reply = Call(std::move(e), timeout);
  if (!reply.ok()) return reply.status();
  if (!reply->has_record_page()) return Status::Internal("the core answered with another type");
  return std::move(*reply->mutable_record_page());
}

Result<v1::TreeHeadResponse> AgencyClient::RequestTreeHead(uint64_t old_size, uint64_t new_size,
                                                           std::chrono::milliseconds timeout) {
  v1::Envelope e;
  e.mutable_tree_head_request()->set_old_size(old_size);
  e.mutable_tree_head_request()->set_new_size(new_size);
  Result<v1::Envelope> reply = Call(std::move(e), timeout);
  if (!reply.ok()) return reply.status();
  if (!reply->has_tree_head_response()) {
    return Status::Internal("the core answered with another type");
  }
  return std::move(*reply->mutable_tree_head_response());
}

Result<v1::TreeHeadResponse> AgencyClient::PublishCosignature(
    const v1::CosignatureView& cosignature, std::chrono::milliseconds timeout) {
  v1::Envelope e;
  e.mutable_tree_head_request()->set_new_size(cosignature.tree_size());
  *e.mutable_tree_head_request()->mutable_cosignature() = cosignature;
  Result<v1::Envelope> reply = Call(std::move(e), timeout);
  if (!reply.ok()) return reply.status();
  if (!reply->has_tree_head_response()) {
    return Status::Internal("the core answered with another type");
  }
  return std::move(*reply->mutable_tree_head_response());
}

Result<v1::StatsReport> AgencyClient::QueryStats(int64_t from_us, int64_t to_us,
                                                 std::chrono::milliseconds timeout) {
  v1::Envelope e;
  e.mutable_stats_query()->set_from_unix_us(from_us);
  e.mutable_stats_query()->set_to_unix_us(to_us);
  Result<v1::Envelope> reply = Call(std::move(e), timeout);
  if (!reply.ok()) return reply.status();
  if (!reply->has_stats_report()) return Status::Internal("the core answered with another type");
  return std::move(*reply->mutable_stats_report());
}

Result<InquiryReply> AgencyClient::Inquire(InquiryRequest request,
                                           std::chrono::milliseconds timeout,
                                           const Callbacks& callbacks) {
  if (request.request_id.empty()) request.request_id = NextRequestId();
  const std::string id = request.request_id;
  IPN_RETURN_IF_ERROR(Submit(std::move(request)));
  std::optional<InquiryReply> mine;
  Callbacks cb = callbacks;
  cb.on_reply = [&](InquiryReply r) {
    if (r.request_id == id) {
      mine = std::move(r);
    } else if (callbacks.on_reply) {
      callbacks.on_reply(std::move(r));
    }
  };
  IPN_RETURN_IF_ERROR(PollUntil(
      std::chrono::steady_clock::now() + timeout, cb, [&] { return mine.has_value(); },
      "no result for inquiry " + id + " in time"));
  return std::move(*mine);
}

Status AgencyClient::RequestSymbol(const std::string& agency, const std::string& person_ref,
                                   std::string resident_code, const std::string& request_id) {
  WipeOnExit wipe_argument(&resident_code);
  v1::Envelope e;
  StampEnvelope(&e, request_id, NowMicros());
  v1::IssueSymbolRequest* r = e.mutable_issue_symbol_request();
  r->set_agency_code(agency);
  r->set_person_ref(person_ref);
  // Sealed here, in the registry's own process: the node and every socket buffer on the
  // way see only the sealed box, which only the core's secret key opens.
  if (core_public_key_.size() != crypto_box_PUBLICKEYBYTES) {
    return Status::FailedPrecondition("the node did not give the core's key: cannot seal the code");
  }
  std::string* sealed = r->mutable_sealed_resident_code();
  sealed->resize(crypto_box_SEALBYTES + resident_code.size());
  if (crypto_box_seal(reinterpret_cast<unsigned char*>(sealed->data()),
                      reinterpret_cast<const unsigned char*>(resident_code.data()),
                      resident_code.size(),
                      reinterpret_cast<const unsigned char*>(core_public_key_.data())) != 0) {
    return Status::Internal("cannot seal the resident code to the core's key");
  }
  return Send(e);
}

Status AgencyClient::Serve(const Callbacks& callbacks, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    IPN_RETURN_IF_ERROR(Poll(std::chrono::milliseconds(100), callbacks));
  }
  return Status::Ok();
}

}  // namespace ipn::interface
