// CoreRouter: the event loop and the named steps of the core's data path.
//
//   Run ─► ReceiveFromRouter ─► Dispatch ─┬─► HandleHello
//                                         ├─► HandleIssueSymbol
//                                         ├─► HandleInquiry ─► CheckAndCharge ─► Translate
//                                         ├─► HandleProvisionOutcome
//                                         ├─► HandleReceipt
//                                         ├─► HandleRecordQuery ─► RecordService
//                                         ├─► HandleTreeHeadRequest, HandleStatsQuery
//                                         └─► HandlePing
//       ExpireDeadlines ─► Commit ─► CommitPipeline::Submit (RecordStore group commit)
//       … the commit thread wakes the loop ─► ReleaseDurable ─► Flush (the outbox)
//
// Forwards to providers leave before the batch's records are durable (so the disk sync
// overlaps the provider's work); every message to an inquirer — the decision that
// releases the answer at its node, a refusal, a timeout — leaves only after. The loop
// never waits for the disk: it keeps reading while a sync is in flight. Records that
// gate no message (outcomes, receipts) ride on the next sync, at most 2 ms later. An
// inquirer node never hands an answer to its agency before the accepted decision.
#include "core/core_router.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <zmq.hpp>

#include "common/envelope_io.h"
#include "common/metrics.h"
#include "common/metrics_server.h"
#include "common/zap_handler.h"
#include "core/commit_pipeline.h"
#include "core/exchange_table.h"
#include "core/record_service.h"
#include "policy/policy_store.h"
#include "records/record_store.h"
#include "symbol/symbol_service.h"

namespace ipn::core {

namespace {

constexpr int kMaxMessagesPerBatch = 512;
constexpr int64_t kLazyRecordDelayUs = 2'000;  // outcome/receipt records share a later sync
constexpr size_t kMaxLazyRecords = 4096;
constexpr std::array<uint8_t, 32> kNoPerson{};  // record symbol of a refusal with no person

std::string DenyReasonName(v1::DenyReason r) {
  std::string name = v1::DenyReason_Name(r);
  const std::string prefix = "DENY_REASON_";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

const char* AgencyStatusName(policy::AgencyStatus s) {
  switch (s) {
    case policy::AgencyStatus::kActive: return "active";
    case policy::AgencyStatus::kSuspended: return "suspended";
    case policy::AgencyStatus::kRetired: return "retired";
  }
  return "unknown";
}

// "MUN-131016@v2:active,…": the key ring's versions, to detect rotations between starts.
std::string KeyRingSummary(const std::vector<symbol::KeyInfo>& keys) {
  std::vector<std::string> parts;
  for (const symbol::KeyInfo& k : keys) {
    parts.push_back(k.agency + "@v" + std::to_string(k.version) + ":" +
                    symbol::KeyStateName(k.state));
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

// Text fit for a record field: control characters replaced, cut to `max` bytes at a
// UTF-8 character boundary (the records library refuses anything else).
std::string Clip(std::string_view text, size_t max) {
  std::string out(text.substr(0, std::min(text.size(), max)));
  if (text.size() > max) {
    size_t end = out.size();
    while (end > 0 && (static_cast<uint8_t>(out[end - 1]) & 0xC0) == 0x80) --end;  // continuation
    if (end > 0 && static_cast<uint8_t>(out[end - 1]) >= 0xC0) --end;  // a cut lead byte
    out.resize(end);
  }
  for (char& c : out) {
    const auto u = static_cast<uint8_t>(c);
    if (u < 0x20 || u == 0x7F) c = '?';
  }
  return records::CheckRecordField("text", out, max).ok() ? out : "?";
}

v1::ErrorCode ErrorCodeOf(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return v1::ERROR_CODE_MALFORMED;
    case Status::Code::kNotFound: return v1::ERROR_CODE_NOT_FOUND;
    case Status::Code::kPermissionDenied: return v1::ERROR_CODE_PERMISSION_DENIED;
    case Status::Code::kResourceExhausted: return v1::ERROR_CODE_RESOURCE_EXHAUSTED;
    default: return v1::ERROR_CODE_INTERNAL;
  }
}

std::string OutcomeName(v1::Outcome o) {
  std::string name = v1::Outcome_Name(o);
  const std::string prefix = "OUTCOME_";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

}  // namespace

class CoreRouter::Impl {
 public:
  Status Init(CoreOptions options);
  Status Run(const std::atomic<bool>& stop, std::atomic<bool>& reload);
  std::string endpoint() const { return endpoint_; }
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : -1; }
  ~Impl();

 private:
  // What one iteration of the loop produced: records to make durable, then messages.
  struct Batch {
    std::vector<records::Record> records;
    Outbox outbox;                 // sent once the batch's records are durable
    std::vector<int64_t> decided;  // arrival times of the inquiries decided in this batch
    bool empty() const { return records.empty() && outbox.empty(); }
  };
  struct ConnectedNode {
    std::string answer_endpoint;
  };

  void Dispatch(Incoming& in, Batch* batch);
  void HandleHello(const Incoming& in, Batch* batch);
  void HandleIssueSymbol(Incoming& in, Batch* batch);
  void HandleInquiry(const Incoming& in, Batch* batch);
  void HandleProvisionOutcome(const Incoming& in, Batch* batch);
  void HandleReceipt(const Incoming& in, Batch* batch);
  void HandlePing(const Incoming& in, Batch* batch);
  void HandleRecordQuery(const Incoming& in, Batch* batch);
  void HandleTreeHeadRequest(const Incoming& in, Batch* batch);
  void HandleStatsQuery(const Incoming& in, Batch* batch);
  bool SenderHasClass(const Incoming& in, std::string_view agency_class) const;
  void RefuseRecordAccess(const Incoming& in, const std::string& action, const std::string& why,
                          Batch* batch);
  void AddAuditRecord(const std::string& actor, const std::string& action,
                      const std::string& agency, const std::string& detail,
                      const std::string& outcome, const std::string& request_id,
                      std::vector<records::Record>* out);
  Status RecordStartup();
  void ExpireDeadlines(Batch* batch);
  void Commit(Batch* batch, bool force = false);
  Status ReleaseDurable();
  void Flush(Outbox* outbox);

  void Refuse(const Incoming& in, v1::DenyReason reason, const std::string& explanation,
              const std::array<uint8_t, 32>& record_symbol, Batch* batch);
  void AddRecord(records::Event event, const Exchange& x, const std::string& outcome, Batch* batch);
  void SendError(const Incoming& in, v1::ErrorCode code, const std::string& reason, Batch* batch);
  v1::Envelope Reply(const std::string& request_id);
  void BroadcastWelcome(Batch* batch);
  std::optional<std::string> Authenticate(std::span<const uint8_t, 32> key);
  void ReloadPolicy(Batch* batch);
  int64_t Now() const { return clock_->NowMicros(); }

  CoreOptions options_;
  SystemClock system_clock_;
  const Clock* clock_ = nullptr;
  Logger* log_ = nullptr;
  CurveKeyPair keys_;
  std::unique_ptr<symbol::SymbolService> symbols_;
  std::unique_ptr<policy::PolicyStore> policy_;
  std::unique_ptr<CommitPipeline> pipeline_;  // declared first: destroyed after the store
  std::unique_ptr<records::RecordStore> records_;
  std::unique_ptr<RecordService> record_service_;
  std::vector<records::Record> lazy_;
  int64_t lazy_since_us_ = 0;
  zmq::context_t context_{1};
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<zmq::socket_t> router_;
  std::string endpoint_;
  ExchangeTable exchanges_{10LL * 60 * 1'000'000};
  std::map<std::string, ConnectedNode> nodes_;  // by agency code

  Metrics metrics_;
  std::unique_ptr<MetricsServer> metrics_server_;
  Histogram* decision_latency_ = nullptr;
  Histogram* exchange_latency_ = nullptr;
  Histogram* commit_latency_ = nullptr;
  Gauge* open_exchanges_ = nullptr;
  Gauge* connected_nodes_ = nullptr;
  Counter* records_appended_ = nullptr;
};

CoreRouter::Impl::~Impl() {
  if (metrics_server_) metrics_server_->Stop();
  router_.reset();
  if (zap_) zap_->Stop();
}

Status CoreRouter::Impl::Init(CoreOptions options) {
  options_ = std::move(options);
  clock_ = options_.clock != nullptr ? options_.clock : &system_clock_;
  log_ = options_.logger;
  if (log_ == nullptr) return Status::InvalidArgument("CoreOptions.logger is required");

  Result<CurveKeyPair> keys = CurveKeyPair::LoadFile(options_.key_file);
  if (!keys.ok()) return keys.status().WithContext("core key");
  keys_ = std::move(*keys);

  // Symbols: the key ring and the issuance file.
  symbol::SymbolServiceOptions sopts;
  sopts.kdf =
      options_.fast_kdf ? symbol::KdfStrength::kMinimumForTests : symbol::KdfStrength::kInteractive;
  sopts.logger = log_;
  auto symbols = symbol::SymbolService::Open(options_.data_dir + "/symbols",
                                             options_.key_ring_passphrase, sopts);
  WipeString(&options_.key_ring_passphrase);
  options_.key_ring_passphrase.clear();
  if (!symbols.ok()) return symbols.status().WithContext("symbols");
  symbols_ = std::move(*symbols);

  // Policy: the signed bundle in force.
  policy_ = std::make_unique<policy::PolicyStore>(options_.admin_public_key);
  IPN_RETURN_IF_ERROR(policy_->LoadFile(options_.policy_bundle_file).WithContext("policy"));

  // Provision records, under keys held in the key ring.
  Result<symbol::RecordKeys> record_keys = symbols_->GetRecordKeys();
  if (!record_keys.ok()) return record_keys.status().WithContext("record keys");
  records::RecordStoreOptions ropts;
  ropts.dir = options_.data_dir + "/records";
  ropts.encryption_keys = std::move(record_keys->encryption);
  ropts.signing_secret_key = std::move(record_keys->signing_secret_key);
  ropts.clock = clock_;
  ropts.logger = log_;
  auto store = records::RecordStore::Open(std::move(ropts));
  if (!store.ok()) return store.status().WithContext("records");
  records_ = std::move(*store);
  commit_latency_ = &metrics_.GetHistogram("ipn_core_commit_seconds",
                                           "Time to make one batch of records durable");
  pipeline_ = std::make_unique<CommitPipeline>(records_.get(), commit_latency_, clock_);
  IPN_RETURN_IF_ERROR(pipeline_->Init());
  record_service_ = std::make_unique<RecordService>(records_.get(), symbols_.get());
  IPN_RETURN_IF_ERROR(RecordStartup());

  // Transport: ZAP first, then the CurveZMQ ROUTER.
  zap_ = std::make_unique<ZapHandler>(
      context_,
      [this](const std::string&, std::span<const uint8_t, 32> key) { return Authenticate(key); },
      log_);
  IPN_RETURN_IF_ERROR(zap_->Start());
  router_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
  ConfigureCurveServer(*router_, keys_, "core");
  router_->set(zmq::sockopt::router_mandatory, 1);
  router_->set(zmq::sockopt::router_handover, 1);
  router_->set(zmq::sockopt::sndhwm, 100000);
  router_->set(zmq::sockopt::rcvhwm, 100000);
  try {
    router_->bind(options_.bind_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot bind " + options_.bind_endpoint + ": " + e.what());
  }
  endpoint_ = router_->get(zmq::sockopt::last_endpoint);

  decision_latency_ =
      &metrics_.GetHistogram("ipn_core_decision_latency_seconds",
                             "Time from an inquiry's arrival to its durable decision");
  exchange_latency_ = &metrics_.GetHistogram("ipn_core_exchange_latency_seconds",
                                             "Time from acceptance to the inquirer's receipt");
  open_exchanges_ =
      &metrics_.GetGauge("ipn_core_open_exchanges", "Inquiries accepted and not yet closed");
  connected_nodes_ = &metrics_.GetGauge("ipn_core_connected_nodes", "Agency nodes that said Hello");
  records_appended_ =
      &metrics_.GetCounter("ipn_core_records_appended_total", "Provision records made durable");
  if (options_.metrics_port >= 0) {
    metrics_server_ = std::make_unique<MetricsServer>(&metrics_, [this] {
      return nlohmann::json{{"status", "ok"},
                            {"component", "core"},
                            {"open_exchanges", open_exchanges_->value()},
                            {"connected_nodes", connected_nodes_->value()}}
          .dump();
    });
    IPN_RETURN_IF_ERROR(metrics_server_->Start(options_.metrics_port));
  }
  log_->Info("core_started", {{"endpoint", endpoint_},
                              {"policy_version", policy_->Current()->version()},
                              {"metrics_port", metrics_port()}});
  return Status::Ok();
}

std::optional<std::string> CoreRouter::Impl::Authenticate(std::span<const uint8_t, 32> key) {
  std::shared_ptr<const policy::Policy> current = policy_->Current();
  if (!current) return std::nullopt;
  const policy::Agency* agency = current->FindAgencyByKey(key);
  if (agency == nullptr || agency->status != policy::AgencyStatus::kActive ||
      !agency->pia_approved) {
    return std::nullopt;
  }
  return agency->code;
}

Status CoreRouter::Impl::Run(const std::atomic<bool>& stop, std::atomic<bool>& reload) {
  Status status;
  while (!stop.load() && status.ok()) {
    const int64_t now = Now();
    int64_t wait_us = 100'000;
    if (auto next = exchanges_.NextDeadline()) wait_us = std::min(wait_us, *next - now);
    if (!lazy_.empty()) wait_us = std::min(wait_us, lazy_since_us_ + kLazyRecordDelayUs - now);
    zmq::pollitem_t items[] = {{router_->handle(), 0, ZMQ_POLLIN, 0},
                               {nullptr, pipeline_->wake_fd(), ZMQ_POLLIN, 0}};
    PollSockets(items, 2,
                std::chrono::milliseconds(std::clamp<int64_t>(wait_us / 1000 + 1, 0, 100)));

    status = ReleaseDurable();
    Batch batch;
    if (reload.exchange(false)) ReloadPolicy(&batch);
    for (int i = 0; i < kMaxMessagesPerBatch; ++i) {
      Incoming in;
      Result<bool> got = ReceiveFromRouter(*router_, &in);
      if (!got.ok()) {
        log_->Warn("malformed_message", {{"reason", got.status().message()}});
        continue;
      }
      if (!*got) break;
      Dispatch(in, &batch);
    }
    ExpireDeadlines(&batch);
    Commit(&batch);
    exchanges_.Forget(Now());
    open_exchanges_->Set(static_cast<int64_t>(exchanges_.open_count()));
  }
  // Make everything recorded so far durable and deliver what waited for it.
  if (!lazy_.empty()) {
    Batch rest;
    Commit(&rest, /*force=*/true);
  }
  Status drained = pipeline_->Drain();
  if (drained.ok()) drained = ReleaseDurable();
  if (status.ok()) status = drained;
  if (!status.ok()) log_->Error("records_commit_failed", {{"reason", status.ToString()}});
  log_->Info("core_stopping", {{"open_exchanges", exchanges_.open_count()},
                               {"commits", commit_latency_->count()},
                               {"commit_p50_us", commit_latency_->QuantileMicros(0.5)},
                               {"decision_p50_us", decision_latency_->QuantileMicros(0.5)},
                               {"exchange_p50_us", exchange_latency_->QuantileMicros(0.5)}});
  return status;
}

// Records that gate nothing (outcomes, receipts) wait up to kLazyRecordDelayUs to share
// the next sync; records that gate a message (a decision, a refusal, a timeout) are
// submitted at once together with every lazy record before them.
void CoreRouter::Impl::Commit(Batch* batch, bool force) {
  const int64_t now = Now();
  if (!batch->records.empty() && batch->outbox.empty() && !force) {
    if (lazy_.empty()) lazy_since_us_ = now;
    for (auto& r : batch->records) lazy_.push_back(std::move(r));
    batch->records.clear();
  }
  const bool lazy_due = !lazy_.empty() && (force || now - lazy_since_us_ >= kLazyRecordDelayUs ||
                                           lazy_.size() >= kMaxLazyRecords);
  if (batch->records.empty() && !lazy_due) {
    Flush(&batch->outbox);  // nothing to wait for: pongs, welcomes, duplicates, issuance
    return;
  }
  std::vector<records::Record> records = std::move(lazy_);
  lazy_.clear();
  for (auto& r : batch->records) records.push_back(std::move(r));
  records_appended_->Add(records.size());
  pipeline_->Submit(std::move(records), std::move(batch->outbox), std::move(batch->decided));
}

Status CoreRouter::Impl::ReleaseDurable() {
  std::vector<CommitPipeline::Released> released;
  Status s = pipeline_->TakeDurable(&released);
  for (auto& r : released) {
    Flush(&r.outbox);
    for (int64_t arrived : r.tags) decision_latency_->ObserveMicros(Now() - arrived);
  }
  return s;
}

void CoreRouter::Impl::Dispatch(Incoming& in, Batch* batch) {
  // The routing id a node chose must be the agency its key authenticated as.
  if (in.user_id.empty() || in.routing_id != in.user_id) {
    log_->Warn("identity_mismatch", {{"routing_id_size", in.routing_id.size()}});
    if (in.envelope.has_issue_symbol_request()) {
      WipeString(in.envelope.mutable_issue_symbol_request()->mutable_resident_code());
    }
    SendError(in, v1::ERROR_CODE_PERMISSION_DENIED, "the node's routing id must be its agency code",
              batch);
    return;
  }
  // Whatever an agency sends that may end up in a provision record must be recordable:
  // otherwise the refusal itself could not be recorded. Checked with the records
  // library's own rules, before any handler sees the message.
  // Views only: this runs for every message on the hot path.
  Status fit = records::CheckRecordField("request id", in.envelope.request_id(),
                                         records::kMaxRequestIdBytes);
  if (fit.ok() && in.envelope.has_inquiry()) {
    const v1::Inquiry& q = in.envelope.inquiry();
    fit = records::CheckRecordField("provider", q.provider_code(), records::kMaxCodeBytes);
    if (fit.ok())
      fit = records::CheckRecordField("business", q.business_code(), records::kMaxCodeBytes);
    if (fit.ok()) fit = records::CheckRecordField("item", q.item_code(), records::kMaxCodeBytes);
  } else if (fit.ok() && in.envelope.has_record_query()) {
    fit = records::CheckRecordField("agency", in.envelope.record_query().agency_code(),
                                    records::kMaxCodeBytes);
  }
  if (!fit.ok()) {
    AddAuditRecord(in.user_id, "malformed_message", "", "", "refused: " + fit.message(), "",
                   &batch->records);
    log_->Warn("malformed_message", {{"agency", in.user_id}, {"reason", fit.message()}});
    if (in.envelope.has_issue_symbol_request()) {
      WipeString(in.envelope.mutable_issue_symbol_request()->mutable_resident_code());
    }
    v1::Envelope e = Reply(in.envelope.request_id());  // echoed so the node can match it
    e.mutable_error()->set_code(v1::ERROR_CODE_MALFORMED);
    e.mutable_error()->set_reason("unrecordable field: " + fit.message());
    batch->outbox.emplace_back(in.routing_id, std::move(e));
    return;
  }
  switch (in.envelope.body_case()) {
    case v1::Envelope::kHello: return HandleHello(in, batch);
    case v1::Envelope::kIssueSymbolRequest: return HandleIssueSymbol(in, batch);
    case v1::Envelope::kInquiry: return HandleInquiry(in, batch);
    case v1::Envelope::kProvisionOutcome: return HandleProvisionOutcome(in, batch);
    case v1::Envelope::kReceipt: return HandleReceipt(in, batch);
    case v1::Envelope::kPing: return HandlePing(in, batch);
    case v1::Envelope::kRecordQuery: return HandleRecordQuery(in, batch);
    case v1::Envelope::kTreeHeadRequest: return HandleTreeHeadRequest(in, batch);
    case v1::Envelope::kStatsQuery: return HandleStatsQuery(in, batch);
    default:
      SendError(in, v1::ERROR_CODE_MALFORMED, "the core does not accept this message type", batch);
  }
}

v1::Envelope CoreRouter::Impl::Reply(const std::string& request_id) {
  v1::Envelope e;
  StampEnvelope(&e, request_id, Now());
  return e;
}

void CoreRouter::Impl::SendError(const Incoming& in, v1::ErrorCode code, const std::string& reason,
                                 Batch* batch) {
  v1::Envelope e = Reply(in.envelope.request_id());
  e.mutable_error()->set_code(code);
  e.mutable_error()->set_reason(reason);
  batch->outbox.emplace_back(in.routing_id, std::move(e));
}

void CoreRouter::Impl::HandleHello(const Incoming& in, Batch* batch) {
  const v1::Hello& hello = in.envelope.hello();
  if (hello.agency_code() != in.user_id) {
    return SendError(in, v1::ERROR_CODE_PERMISSION_DENIED,
                     "Hello names another agency than the key it connected with", batch);
  }
  nodes_[in.user_id] = ConnectedNode{hello.answer_endpoint()};
  connected_nodes_->Set(static_cast<int64_t>(nodes_.size()));
  log_->Info("node_connected",
             {{"agency", in.user_id}, {"answer_endpoint", hello.answer_endpoint()}});
  BroadcastWelcome(batch);
}

void CoreRouter::Impl::BroadcastWelcome(Batch* batch) {
  std::shared_ptr<const policy::Policy> current = policy_->Current();
  v1::Welcome welcome;
  welcome.set_policy_version(current->version());
  for (const auto& [code, node] : nodes_) {
    const policy::Agency* agency = current->FindAgency(code);
    if (agency == nullptr || agency->status != policy::AgencyStatus::kActive ||
        !agency->pia_approved || !agency->curve_public_key) {
      continue;
    }
    v1::PeerNode* peer = welcome.add_peers();
    peer->set_agency_code(code);
    peer->set_curve_public_key(agency->curve_public_key->data(), 32);
    peer->set_answer_endpoint(node.answer_endpoint);
  }
  for (const auto& [code, node] : nodes_) {
    v1::Envelope e = Reply("welcome");
    *e.mutable_welcome() = welcome;
    batch->outbox.emplace_back(code, std::move(e));
  }
}

void CoreRouter::Impl::HandleIssueSymbol(Incoming& in, Batch* batch) {
  v1::IssueSymbolRequest* req = in.envelope.mutable_issue_symbol_request();
  std::shared_ptr<const policy::Policy> current = policy_->Current();
  const policy::Agency* sender = current->FindAgency(in.user_id);
  v1::Envelope reply = Reply(in.envelope.request_id());
  v1::IssueSymbolResponse* resp = reply.mutable_issue_symbol_response();
  resp->set_agency_code(req->agency_code());
  resp->set_person_ref(req->person_ref());
  const policy::Agency* target = current->FindAgency(req->agency_code());
  if (sender == nullptr || sender->agency_class != "registry") {
    resp->set_error_code(v1::ERROR_CODE_PERMISSION_DENIED);
    resp->set_reason("only the registry link may submit resident codes");
  } else if (target == nullptr || target->status != policy::AgencyStatus::kActive) {
    resp->set_error_code(v1::ERROR_CODE_UNKNOWN_AGENCY);
    resp->set_reason("agency " + req->agency_code() + " is not an active agency");
  } else if (nodes_.count(req->agency_code()) == 0) {
    resp->set_error_code(v1::ERROR_CODE_UNAVAILABLE);
    resp->set_reason("the node of agency " + req->agency_code() + " is not connected");
  } else {
    Result<symbol::AgencySymbol> issued = symbols_->Issue(req->resident_code(), req->agency_code());
    if (!issued.ok()) {
      resp->set_error_code(issued.status().code() == Status::Code::kInvalidArgument
                               ? v1::ERROR_CODE_INVALID_RESIDENT_CODE
                               : v1::ERROR_CODE_INTERNAL);
      resp->set_reason(issued.status().message());
    } else {
      v1::Envelope to_agency = Reply(in.envelope.request_id());
      v1::SymbolIssued* si = to_agency.mutable_symbol_issued();
      si->set_person_ref(req->person_ref());
      si->set_agency_symbol(issued->bytes.data(), issued->bytes.size());
      batch->outbox.emplace_back(req->agency_code(), std::move(to_agency));
      sodium_memzero(issued->bytes.data(), issued->bytes.size());
    }
  }
  WipeString(req->mutable_resident_code());
  metrics_
      .GetCounter("ipn_core_symbol_issuance_total", "Symbol issuance requests",
                  {{"result", resp->error_code() == v1::ERROR_CODE_NONE ? "issued" : "refused"}})
      .Add();
  log_->Info("symbol_issuance", {{"request_id", in.envelope.request_id()},
                                 {"agency", req->agency_code()},
                                 {"result", v1::ErrorCode_Name(resp->error_code())}});
  batch->outbox.emplace_back(in.routing_id, std::move(reply));
}

void CoreRouter::Impl::AddRecord(records::Event event, const Exchange& x,
                                 const std::string& outcome, Batch* batch) {
  records::Record r;
  r.time_unix_us = Now();
  r.event = event;
  r.record_symbol = x.record_symbol;
  r.inquirer = x.inquirer;
  r.provider = x.provider;
  r.business = x.business;
  r.item = x.item;
  r.request_id = x.request_id;
  r.outcome = outcome;
  r.non_disclosure = x.non_disclosure;
  batch->records.push_back(std::move(r));
}

void CoreRouter::Impl::Refuse(const Incoming& in, v1::DenyReason reason,
                              const std::string& explanation,
                              const std::array<uint8_t, 32>& record_symbol, Batch* batch) {
  const v1::Inquiry& q = in.envelope.inquiry();
  Exchange x;
  x.inquirer = in.user_id;
  x.provider = q.provider_code();
  x.business = q.business_code();
  x.item = q.item_code();
  x.request_id = in.envelope.request_id();
  x.record_symbol = record_symbol;
  records::Event event = reason == v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER
                             ? records::Event::kNotHeld
                             : records::Event::kInquiryRefused;
  AddRecord(event, x, DenyReasonName(reason), batch);
  exchanges_.RememberRefused(ExchangeTable::Key(in.user_id, in.envelope.request_id()), Now());

  v1::Envelope e = Reply(in.envelope.request_id());
  v1::InquiryDecision* d = e.mutable_inquiry_decision();
  d->set_accepted(false);
  d->set_deny_reason(reason);
  d->set_explanation(explanation);
  batch->outbox.emplace_back(in.routing_id, std::move(e));
  metrics_
      .GetCounter(
          "ipn_core_inquiries_total", "Inquiries by outcome",
          {{"outcome", reason == v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER ? "not_held" : "refused"}})
      .Add();
  metrics_
      .GetCounter("ipn_core_refusals_total", "Refused inquiries by reason",
                  {{"reason", DenyReasonName(reason)}})
      .Add();
  log_->Info("inquiry_refused", {{"request_id", x.request_id},
                                 {"inquirer", x.inquirer},
                                 {"provider", x.provider},
                                 {"business", x.business},
                                 {"item", x.item},
                                 {"reason", DenyReasonName(reason)}});
}

void CoreRouter::Impl::HandleInquiry(const Incoming& in, Batch* batch) {
  const int64_t arrived = Now();
  const v1::Inquiry& q = in.envelope.inquiry();
  const std::string& request_id = in.envelope.request_id();
  const std::string key = ExchangeTable::Key(in.user_id, request_id);

  // 1. Well-formed, and not a repeat of a request id this inquirer already used.
  if (request_id.empty() || q.business_code().empty() || q.item_code().empty() ||
      q.provider_code().empty() || q.inquirer_symbol().empty()) {
    return Refuse(in, v1::DENY_REASON_MALFORMED,
                  "an inquiry needs a request id, a symbol, a business, an item and a provider",
                  kNoPerson, batch);
  }
  if (exchanges_.Seen(key)) {
    v1::Envelope e = Reply(request_id);
    e.mutable_inquiry_decision()->set_accepted(false);
    e.mutable_inquiry_decision()->set_deny_reason(v1::DENY_REASON_DUPLICATE_REQUEST);
    e.mutable_inquiry_decision()->set_explanation("request id " + request_id +
                                                  " was already used; the first inquiry stands");
    batch->outbox.emplace_back(in.routing_id, std::move(e));
    metrics_.GetCounter("ipn_core_duplicates_total", "Repeated request ids (not recorded again)")
        .Add();
    log_->Warn("duplicate_request", {{"request_id", request_id}, {"inquirer", in.user_id}});
    return;
  }

  // 2. The permitted-link list, the directory and the inquirer's rate limit.
  policy::Decision decision = policy_->CheckAndCharge(in.user_id, q.business_code(),
                                                      q.provider_code(), q.item_code(), arrived);
  // 3. Open the inquirer's symbol: the provider's symbol, the record symbol, and whether
  //    the provider was ever issued a symbol for this person.
  auto bytes = std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(q.inquirer_symbol().data()), q.inquirer_symbol().size());
  Result<symbol::SymbolService::Translation> t =
      symbols_->Translate(bytes, in.user_id, q.provider_code());
  if (!decision.allowed) {
    return Refuse(in, static_cast<v1::DenyReason>(static_cast<int>(decision.reason)),
                  decision.explanation, t.ok() ? t->record_symbol.bytes : kNoPerson, batch);
  }
  if (!t.ok()) {
    return Refuse(in, v1::DENY_REASON_INVALID_SYMBOL,
                  "the inquirer's symbol is not valid: " + t.status().message(), kNoPerson, batch);
  }
  if (!t->provider_issued) {
    return Refuse(in, v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER,
                  q.provider_code() + " was never issued a symbol for this person: not held",
                  t->record_symbol.bytes, batch);
  }

  // 4. Accept: record, forward to the provider's node, and tell the inquirer after commit.
  Exchange x;
  x.inquirer = in.user_id;
  x.provider = q.provider_code();
  x.business = q.business_code();
  x.item = q.item_code();
  x.request_id = request_id;
  x.record_symbol = t->record_symbol.bytes;
  x.accepted_us = arrived;
  x.deadline_us = arrived + options_.provider_deadline_us;
  AddRecord(records::Event::kInquiryAccepted, x, "ACCEPTED", batch);

  auto provider_node = nodes_.find(x.provider);
  auto inquirer_node = nodes_.find(x.inquirer);
  std::shared_ptr<const policy::Policy> current = policy_->Current();
  const policy::Agency* inquirer_agency = current->FindAgency(x.inquirer);
  const policy::Agency* provider_agency = current->FindAgency(x.provider);
  Status sent = Status::Unavailable("the provider's node is not connected");
  if (provider_node != nodes_.end() && inquirer_node != nodes_.end() &&
      inquirer_agency->curve_public_key && provider_agency->curve_public_key) {
    v1::Envelope fwd = Reply(request_id);
    v1::ForwardedInquiry* f = fwd.mutable_forwarded_inquiry();
    f->set_provider_symbol(t->provider_symbol.bytes.data(), t->provider_symbol.bytes.size());
    f->set_inquirer_code(x.inquirer);
    f->set_business_code(x.business);
    f->set_item_code(x.item);
    *f->mutable_parameters() = q.parameters();
    f->set_deadline_unix_us(x.deadline_us);
    v1::PeerNode* peer = f->mutable_inquirer_node();
    peer->set_agency_code(x.inquirer);
    peer->set_curve_public_key(inquirer_agency->curve_public_key->data(), 32);
    peer->set_answer_endpoint(inquirer_node->second.answer_endpoint);
    sent = SendToPeer(*router_, x.provider, fwd);
  }
  if (!sent.ok()) {
    // Unreachable provider: a definite, recorded outcome now, not at the deadline.
    x.outcome_recorded = true;
    AddRecord(records::Event::kTimedOut, x, "UNREACHABLE", batch);
    exchanges_.RememberRefused(key, arrived);
    v1::Envelope e = Reply(request_id);
    e.mutable_inquiry_result()->set_outcome(v1::OUTCOME_UNREACHABLE);
    e.mutable_inquiry_result()->set_provider_code(x.provider);
    e.mutable_inquiry_result()->set_explanation("the provider's node is not reachable");
    batch->outbox.emplace_back(in.routing_id, std::move(e));
    metrics_
        .GetCounter("ipn_core_inquiries_total", "Inquiries by outcome",
                    {{"outcome", "unreachable"}})
        .Add();
    log_->Warn("provider_unreachable", {{"request_id", request_id}, {"provider", x.provider}});
    return;
  }
  AddRecord(records::Event::kForwarded, x, "FORWARDED", batch);

  v1::Envelope e = Reply(request_id);
  v1::InquiryDecision* d = e.mutable_inquiry_decision();
  d->set_accepted(true);
  d->set_explanation(decision.explanation);
  d->mutable_provider_node()->set_agency_code(x.provider);
  d->mutable_provider_node()->set_curve_public_key(provider_agency->curve_public_key->data(), 32);
  d->mutable_provider_node()->set_answer_endpoint(provider_node->second.answer_endpoint);
  batch->outbox.emplace_back(in.routing_id, std::move(e));
  batch->decided.push_back(arrived);
  log_->Info("inquiry_accepted", {{"request_id", request_id},
                                  {"inquirer", x.inquirer},
                                  {"provider", x.provider},
                                  {"business", x.business},
                                  {"item", x.item},
                                  {"row", decision.row}});
  exchanges_.Open(key, std::move(x));
}

void CoreRouter::Impl::HandleProvisionOutcome(const Incoming& in, Batch* batch) {
  const v1::ProvisionOutcome& o = in.envelope.provision_outcome();
  const std::string key = ExchangeTable::Key(o.inquirer_code(), in.envelope.request_id());
  Exchange* x = exchanges_.Find(key);
  if (x == nullptr || x->provider != in.user_id || x->outcome_recorded) {
    log_->Warn("unexpected_outcome",
               {{"request_id", in.envelope.request_id()},
                {"provider", in.user_id},
                {"reason", x == nullptr                ? "no open exchange"
                           : x->provider != in.user_id ? "not the provider of this exchange"
                                                       : "outcome already recorded"}});
    return;
  }
  records::Event event = records::Event::kFailed;
  if (o.outcome() == v1::OUTCOME_PROVIDED) event = records::Event::kProvided;
  if (o.outcome() == v1::OUTCOME_NOT_HELD) event = records::Event::kNotHeld;
  x->outcome_recorded = true;
  x->non_disclosure = o.non_disclosure();
  AddRecord(event, *x, OutcomeName(o.outcome()), batch);
  metrics_
      .GetCounter("ipn_core_inquiries_total", "Inquiries by outcome",
                  {{"outcome", OutcomeName(o.outcome())}})
      .Add();
  if (x->receipt_recorded) exchanges_.Close(key, Now());
}

void CoreRouter::Impl::HandleReceipt(const Incoming& in, Batch* batch) {
  const v1::Receipt& r = in.envelope.receipt();
  const std::string key = ExchangeTable::Key(in.user_id, in.envelope.request_id());
  Exchange* x = exchanges_.Find(key);
  if (x == nullptr || x->receipt_recorded) {
    log_->Warn("unexpected_receipt",
               {{"request_id", in.envelope.request_id()}, {"inquirer", in.user_id}});
    return;
  }
  x->receipt_recorded = true;
  AddRecord(records::Event::kReceived, *x, r.received() ? OutcomeName(r.outcome()) : "NOT_RECEIVED",
            batch);
  exchange_latency_->ObserveMicros(Now() - x->accepted_us);
  if (x->outcome_recorded) exchanges_.Close(key, Now());
}

void CoreRouter::Impl::HandlePing(const Incoming& in, Batch* batch) {
  v1::Envelope e = Reply(in.envelope.request_id());
  e.mutable_pong()->set_component("core");
  e.mutable_pong()->set_status("ok");
  batch->outbox.emplace_back(in.routing_id, std::move(e));
}

void CoreRouter::Impl::ExpireDeadlines(Batch* batch) {
  const int64_t now = Now();
  for (const std::string& key : exchanges_.Expired(now)) {
    Exchange* x = exchanges_.Find(key);
    x->outcome_recorded = true;
    AddRecord(records::Event::kTimedOut, *x, "TIMED_OUT", batch);
    v1::Envelope e = Reply(x->request_id);
    e.mutable_inquiry_result()->set_outcome(v1::OUTCOME_TIMED_OUT);
    e.mutable_inquiry_result()->set_provider_code(x->provider);
    e.mutable_inquiry_result()->set_explanation("the provider did not answer before the deadline");
    batch->outbox.emplace_back(x->inquirer, std::move(e));
    metrics_
        .GetCounter("ipn_core_inquiries_total", "Inquiries by outcome", {{"outcome", "TIMED_OUT"}})
        .Add();
    log_->Warn("provider_timed_out", {{"request_id", x->request_id}, {"provider", x->provider}});
    exchanges_.Close(key, now);
  }
}

void CoreRouter::Impl::Flush(Outbox* outbox) {
  for (auto& [to, envelope] : *outbox) {
    Status s = SendToPeer(*router_, to, envelope);
    if (!s.ok()) {
      log_->Warn("send_failed",
                 {{"to", to}, {"request_id", envelope.request_id()}, {"reason", s.message()}});
      if (s.code() == Status::Code::kUnavailable && nodes_.erase(to) > 0) {
        connected_nodes_->Set(static_cast<int64_t>(nodes_.size()));
      }
    }
  }
  outbox->clear();
}

// A policy load is an operator action: recorded (loaded or refused), and so is every
// agency whose status the new bundle changes.
void CoreRouter::Impl::ReloadPolicy(Batch* batch) {
  std::shared_ptr<const policy::Policy> before = policy_->Current();
  Status s = policy_->LoadFile(options_.policy_bundle_file);
  std::shared_ptr<const policy::Policy> after = policy_->Current();
  if (!s.ok()) {
    log_->Error("policy_refused",
                {{"reason", s.ToString()}, {"version_in_force", after->version()}});
    AddAuditRecord("operator", "policy_load", "", "file " + options_.policy_bundle_file,
                   "refused: " + s.message(), "", &batch->records);
    return;
  }
  log_->Info("policy_loaded", {{"version", after->version()}});
  AddAuditRecord("operator", "policy_load", "", "version " + std::to_string(after->version()), "ok",
                 "", &batch->records);
  for (const policy::Agency& a : after->agencies()) {
    const policy::Agency* old = before->FindAgency(a.code);
    const std::string was = old == nullptr ? "absent" : AgencyStatusName(old->status);
    const std::string now = AgencyStatusName(a.status);
    if (was != now) {
      AddAuditRecord("operator", "agency_status_change", a.code, was + " -> " + now, "ok", "",
                     &batch->records);
    }
  }
}

void CoreRouter::Impl::AddAuditRecord(const std::string& actor, const std::string& action,
                                      const std::string& agency, const std::string& detail,
                                      const std::string& outcome, const std::string& request_id,
                                      std::vector<records::Record>* out) {
  records::Record r;
  r.time_unix_us = Now();
  r.event = records::Event::kOperatorAction;
  r.record_symbol = records::kAuditRecordSymbol;
  r.inquirer = Clip(actor, records::kMaxCodeBytes);
  r.provider = Clip(agency, records::kMaxCodeBytes);
  r.business = Clip(action, records::kMaxCodeBytes);
  r.item = Clip(detail, records::kMaxCodeBytes);
  r.request_id = Clip(request_id, records::kMaxRequestIdBytes);
  r.outcome = Clip(outcome, records::kMaxOutcomeBytes);
  out->push_back(std::move(r));
}

// At start: the core's own start, the policy in force, and any key-ring change since the
// last start (rotations and retirements are done offline with `ipn keys`), as audit
// records, durable before the core serves anyone.
Status CoreRouter::Impl::RecordStartup() {
  const std::string keys = KeyRingSummary(symbols_->ListKeys());
  std::string previous;
  std::string token;
  for (int page = 0; page < 20 && previous.empty(); ++page) {
    Result<records::RecordStore::HistoryPage> h =
        records_->History(records::kAuditRecordSymbol, 1000, token);
    if (!h.ok()) return h.status().WithContext("reading the audit records");
    for (const records::Record& r : h->records) {
      if (r.business == "key_ring" && r.event == records::Event::kOperatorAction) {
        previous = r.outcome;
        break;
      }
    }
    token = h->next_page_token;
    if (token.empty()) break;
  }
  std::vector<records::Record> audit;
  AddAuditRecord("operator", "core_start", "",
                 "policy version " + std::to_string(policy_->Current()->version()), "ok", "",
                 &audit);
  if (previous != keys) {
    std::set<std::string> old_set, new_set;
    auto split = [](const std::string& s, std::set<std::string>* out) {
      size_t start = 0;
      while (start < s.size()) {
        size_t comma = s.find(',', start);
        if (comma == std::string::npos) comma = s.size();
        out->insert(s.substr(start, comma - start));
        start = comma + 1;
      }
    };
    split(previous, &old_set);
    split(keys, &new_set);
    for (const std::string& k : new_set) {
      if (old_set.count(k) == 0 && !previous.empty()) {
        const std::string agency = k.substr(0, k.find('@'));
        AddAuditRecord("operator", "key_change", agency, k, "ok", "", &audit);
      }
    }
    AddAuditRecord("operator", "key_ring", "", std::to_string(new_set.size()) + " keys", keys, "",
                   &audit);
  }
  return records_->AppendBatch(audit).WithContext("recording the core's start");
}

bool CoreRouter::Impl::SenderHasClass(const Incoming& in, std::string_view agency_class) const {
  // Checked on every request, not only at connection: a suspension takes effect at once.
  const policy::Agency* a = policy_->Current()->FindAgency(in.user_id);
  return a != nullptr && a->agency_class == agency_class &&
         a->status == policy::AgencyStatus::kActive && a->pia_approved;
}

// A refused record access is evidence too: recorded, then answered.
void CoreRouter::Impl::RefuseRecordAccess(const Incoming& in, const std::string& action,
                                          const std::string& why, Batch* batch) {
  AddAuditRecord(in.user_id, action, in.user_id, "refused", "refused: " + why,
                 in.envelope.request_id(), &batch->records);
  log_->Warn("record_access_refused", {{"request_id", in.envelope.request_id()},
                                       {"agency", in.user_id},
                                       {"action", action},
                                       {"reason", why}});
  SendError(in, v1::ERROR_CODE_PERMISSION_DENIED, why, batch);
}

void CoreRouter::Impl::HandleRecordQuery(const Incoming& in, Batch* batch) {
  const v1::RecordQuery& q = in.envelope.record_query();
  v1::Envelope reply = Reply(in.envelope.request_id());
  if (!q.person_symbol().empty()) {
    // A person's history: only the disclosure portal, by its own symbol for the person.
    if (!SenderHasClass(in, "portal")) {
      return RefuseRecordAccess(in, "person_history",
                                "only the disclosure portal may read a person's history", batch);
    }
    Result<v1::RecordPage> page =
        record_service_->PersonHistory(in.user_id, q.person_symbol(), q.with_proofs());
    if (!page.ok()) {
      return SendError(in, ErrorCodeOf(page.status()), page.status().message(), batch);
    }
    *reply.mutable_record_page() = std::move(*page);
    log_->Info("history_served", {{"request_id", in.envelope.request_id()},
                                  {"records", reply.record_page().records_size()},
                                  {"withheld", reply.record_page().withheld()}});
    batch->outbox.emplace_back(in.routing_id, std::move(reply));
    return;
  }
  // A time-range pull: only the oversight commission.
  if (!SenderHasClass(in, "commission")) {
    return RefuseRecordAccess(in, "records_pull", "only the oversight commission may pull records",
                              batch);
  }
  Result<v1::RecordPage> page = record_service_->Pull(q);
  if (!page.ok()) {
    return SendError(in, ErrorCodeOf(page.status()), page.status().message(), batch);
  }
  // Every page is recorded with the sequences it released (a page token is only a
  // position, so each page is its own access).
  const v1::RecordPage& p = *page;
  const std::string released = p.records_size() == 0
                                   ? "no records"
                                   : "sequences " + std::to_string(p.records(0).sequence()) + "-" +
                                         std::to_string(p.records(p.records_size() - 1).sequence());
  AddAuditRecord(in.user_id, "records_pull", q.agency_code(),
                 std::to_string(q.from_unix_us()) + ".." + std::to_string(q.to_unix_us()),
                 "ok: " + released, in.envelope.request_id(), &batch->records);
  *reply.mutable_record_page() = std::move(*page);
  batch->outbox.emplace_back(in.routing_id, std::move(reply));
}

void CoreRouter::Impl::HandleTreeHeadRequest(const Incoming& in, Batch* batch) {
  if (!SenderHasClass(in, "commission")) {
    return RefuseRecordAccess(in, "tree_head", "only the oversight commission may ask for heads",
                              batch);
  }
  const v1::TreeHeadRequest& q = in.envelope.tree_head_request();
  Result<v1::TreeHeadResponse> head = record_service_->TreeHead(q.old_size(), q.new_size());
  if (!head.ok()) {
    return SendError(in, ErrorCodeOf(head.status()), head.status().message(), batch);
  }
  v1::Envelope reply = Reply(in.envelope.request_id());
  *reply.mutable_tree_head_response() = std::move(*head);
  batch->outbox.emplace_back(in.routing_id, std::move(reply));
}

void CoreRouter::Impl::HandleStatsQuery(const Incoming& in, Batch* batch) {
  if (!SenderHasClass(in, "commission")) {
    return RefuseRecordAccess(in, "stats", "only the oversight commission may read statistics",
                              batch);
  }
  const v1::StatsQuery& q = in.envelope.stats_query();
  Result<v1::StatsReport> stats = record_service_->Stats(q.from_unix_us(), q.to_unix_us());
  if (!stats.ok()) {
    return SendError(in, ErrorCodeOf(stats.status()), stats.status().message(), batch);
  }
  AddAuditRecord(in.user_id, "stats_read", "",
                 std::to_string(q.from_unix_us()) + ".." + std::to_string(q.to_unix_us()), "ok",
                 in.envelope.request_id(), &batch->records);
  v1::Envelope reply = Reply(in.envelope.request_id());
  *reply.mutable_stats_report() = std::move(*stats);
  batch->outbox.emplace_back(in.routing_id, std::move(reply));
}

CoreRouter::CoreRouter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CoreRouter::~CoreRouter() = default;

Result<std::unique_ptr<CoreRouter>> CoreRouter::Open(CoreOptions options) {
  auto impl = std::make_unique<Impl>();
  IPN_RETURN_IF_ERROR(impl->Init(std::move(options)));
  return std::unique_ptr<CoreRouter>(new CoreRouter(std::move(impl)));
}

std::string CoreRouter::endpoint() const {
  return impl_->endpoint();
}
int CoreRouter::metrics_port() const {
  return impl_->metrics_port();
}
Status CoreRouter::Run(const std::atomic<bool>& stop, std::atomic<bool>& reload) {
  return impl_->Run(stop, reload);
}

}  // namespace ipn::core
