// CoreRouter: start-up, the event loop, dispatch, commit/release and symbol issuance.
//
//   Run ─► ReceiveFromRouter ─► Dispatch ─┬─► HandleHello
//                                         ├─► HandleIssueSymbol
//                                         ├─► InquiryBroker::OnInquiry / OnOutcome / OnReceipt
//                                         ├─► RecordAccess::OnRecordQuery / OnTreeHeadRequest
//                                         │                 / OnStatsQuery
//                                         └─► HandlePing
//       InquiryBroker::ExpireDeadlines ─► Commit ─► CommitPipeline::Submit (group commit)
//       … the commit thread wakes the loop ─► ReleaseDurable ─► Flush (the outbox)
//
// The rules live in InquiryBroker, RecordAccess and OperatorAudit; this file is the
// CoreEnv they talk to. Forwards leave at once (SendNow), every other message only after
// the records added before it are durable (SendAfterCommit). Under load the loop never
// waits for the disk; at low load a small commit syncs on this thread (CommitPipeline).
#include "core/core_router.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <zmq.hpp>

#include "common/connection_watch.h"
#include "common/envelope_io.h"
#include "common/file_util.h"
#include "common/limits.h"
#include "common/metrics_server.h"
#include "common/wipe_guard.h"
#include "common/zap_handler.h"
#include "common/zmq_call.h"
#include "core/connected_nodes.h"
#include "core/core_env.h"
#include "core/core_router_impl.h"
#include "core/core_stats.h"
#include "core/exchange_recovery.h"
#include "core/inquiry_broker.h"
#include "core/message_admission.h"
#include "core/operator_audit.h"
#include "core/peer_backlog.h"
#include "core/record_access.h"
#include "ipn/v1/wire_names.h"
#include "policy/policy_store.h"
#include "records/record_store.h"
#include "symbol/symbol_service.h"

namespace ipn::core {

namespace {

constexpr int kMaxMessagesPerBatch = 512;
// Records that gate no message (outcomes, receipts) wait up to this long to share a
// later sync: one fdatasync per 2 ms at most instead of one per outcome.
constexpr int64_t kLazyRecordDelayUs = 2'000;
constexpr size_t kMaxLazyRecords = 4096;

}  // namespace

CoreRouter::Impl::~Impl() {
  if (metrics_server_) metrics_server_->Stop();
  router_.reset();
  if (zap_) zap_->Stop();
}

std::string CoreRouter::Impl::NewExchangeId(std::string_view inquirer,
                                            std::string_view request_id) {
  // BLAKE2b keyed MAC of inquirer || 0 || request id (an agency code holds no 0 byte).
  uint8_t bytes[16];
  crypto_generichash_state st;
  crypto_generichash_init(&st, exchange_id_key_.data(), exchange_id_key_.size(), sizeof(bytes));
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(inquirer.data()),
                            inquirer.size());
  const uint8_t zero = 0;
  crypto_generichash_update(&st, &zero, 1);
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(request_id.data()),
                            request_id.size());
  crypto_generichash_final(&st, bytes, sizeof(bytes));
  sodium_memzero(&st, sizeof(st));
  char hex[2 * sizeof(bytes) + 1];
  sodium_bin2hex(hex, sizeof(hex), bytes, sizeof(bytes));
  return hex;
}

bool CoreRouter::Impl::RequestIdRecorded(std::string_view inquirer, std::string_view request_id) {
  Result<bool> used = records_->RequestIdUsed(inquirer, request_id);
  if (!used.ok()) {
    // Unreadable index: the inquiry goes on, guarded by memory only; said, not hidden.
    log_->Error("request_index_unreadable", {{"reason", used.status().ToString()}});
    return false;
  }
  return *used;
}

Status CoreRouter::Impl::Init(CoreOptions options) {
  options_ = std::move(options);
  clock_ = options_.clock != nullptr ? options_.clock : &system_clock_;
  log_ = options_.logger;
  if (log_ == nullptr) return Status::InvalidArgument("CoreOptions.logger is required");
  Result<CurveKeyPair> keys = CurveKeyPair::LoadFile(options_.key_file);
  if (!keys.ok()) return keys.status().WithContext("core key");
  keys_ = std::move(*keys);
  stats_ = std::make_unique<CoreStats>(metrics_);
  IPN_RETURN_IF_ERROR(OpenStores());
  if (following_) {
    // A replicated core serves nobody until it leads (Run: RunFollowing).
    stats_->leading.Set(0);
    stats_->policy_version.Set(static_cast<int64_t>(policy_->Current()->version()));
    endpoint_ = options_.bind_endpoint;
    IPN_RETURN_IF_ERROR(StartMetrics());
    log_->Info("core_started", {{"role", "follower"},
                                {"site", options_.site},
                                {"endpoint", endpoint_},
                                {"metrics_port", metrics_port()}});
    return Status::Ok();
  }
  IPN_RETURN_IF_ERROR(StartServing());
  stats_->leading.Set(1);
  stats_->records_available.Set(1);
  stats_->policy_version.Set(static_cast<int64_t>(policy_->Current()->version()));
  IPN_RETURN_IF_ERROR(OpenTransport());
  send_now_ = [this](std::string_view to, const v1::Envelope& e) {
    return SendToPeer(*router_, to, e);
  };
  IPN_RETURN_IF_ERROR(StartMetrics());
  log_->Info("core_started", {{"endpoint", endpoint_},
                              {"policy_version", policy_->Current()->version()},
                              {"metrics_port", metrics_port()}});
  return Status::Ok();
}

// The key ring and issuance file, the policy in force, the provision records; then the
// start's audit records, durable before the core serves anyone.
Status CoreRouter::Impl::OpenStores() {
  IPN_RETURN_IF_ERROR(OpenKeyRing());

  policy_ = std::make_unique<policy::PolicyStore>(options_.admin_public_key);
  if (!options_.operator_roster_file.empty()) {
    Result<policy::OperatorRoster> roster =
        policy::LoadOperatorRoster(options_.operator_roster_file);
    if (!roster.ok()) return roster.status().WithContext("operator roster");
    roster_ = std::move(*roster);
    IPN_RETURN_IF_ERROR(KeepRosterBesideRing());
  }
  IPN_RETURN_IF_ERROR(LoadReplicaSet());

  if (!options_.etcd_endpoints.empty()) IPN_RETURN_IF_ERROR(OpenReplica());
  IPN_RETURN_IF_ERROR(OpenRecordStore());
  IPN_RETURN_IF_ERROR(LoadStartBundle());
  if (replica_) {
    following_ = true;  // start-up records and closings wait until this core leads
    return Status::Ok();
  }
  IPN_RETURN_IF_ERROR(RecordStartup(
      records_.get(), *symbols_, policy_->Current()->version(), NowMicros(), {},
      [this](const std::string& b, const std::string& a) { return KeyChangeActorsOf(b, a); },
      start_changes_));
  IPN_RETURN_IF_ERROR(KeepStartConfiguration());
  return CloseInterrupted();
}

// ZAP first (it must be running before a CurveZMQ server socket binds), then the ROUTER.
Status CoreRouter::Impl::OpenTransport() {
  zap_ = std::make_unique<ZapHandler>(
      context_,
      [this](const std::string&, std::span<const uint8_t, 32> key) { return Authenticate(key); },
      log_);
  IPN_RETURN_IF_ERROR(zap_->Start());
  return ZmqCall("bind " + options_.bind_endpoint, [&] {
    router_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
    IPN_RETURN_IF_ERROR(ConfigureCurveServer(*router_, keys_, "core"));
    router_->set(zmq::sockopt::router_mandatory, 1);
    router_->set(zmq::sockopt::router_handover, 1);
    router_->set(zmq::sockopt::sndhwm, 100000);
    router_->set(zmq::sockopt::rcvhwm, 100000);
    IPN_RETURN_IF_ERROR(EnableHeartbeat(*router_));
    router_->set(zmq::sockopt::maxmsgsize, limits::kMaxCoreFrameBytes);
    router_->bind(options_.bind_endpoint);
    endpoint_ = router_->get(zmq::sockopt::last_endpoint);
    return Status::Ok();
  });
}

Status CoreRouter::Impl::StartMetrics() {
  if (options_.metrics_port < 0) return Status::Ok();
  metrics_server_ = std::make_unique<MetricsServer>(&metrics_, [this] {
    return nlohmann::json{{"status", "ok"},
                          {"component", "core"},
                          {"open_exchanges", stats_->open_exchanges.value()},
                          {"connected_nodes", stats_->connected_nodes.value()}}
        .dump();
  });
  return metrics_server_->Start(options_.metrics_port);
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
  // A failed commit no longer ends the loop (RecordsFailed); only a poll error or `stop`.
  Status polled;
  while (!stop.load()) {
    if (following_) {
      if (Status f = RunFollowing(stop); !f.ok()) {
        polled = f;
        break;
      }
      continue;
    }
    if (records_down_) {
      if (Status down = RunRecordsDown(); !down.ok()) {
        log_->Error("core_poll_failed", {{"reason", down.ToString()}});
        polled = down;
        break;
      }
      continue;
    }
    const int64_t now = NowMicros();
    int64_t wait_us = 100'000;
    if (auto next = broker_->NextDeadline()) wait_us = std::min(wait_us, *next - now);
    if (auto next = refusals_.NextDue()) wait_us = std::min(wait_us, *next - now);
    if (!lazy_.empty()) wait_us = std::min(wait_us, lazy_since_us_ + kLazyRecordDelayUs - now);
    zmq::pollitem_t items[] = {{router_->handle(), 0, ZMQ_POLLIN, 0},
                               {nullptr, pipeline_->wake_fd(), ZMQ_POLLIN, 0},
                               {nullptr, reads_->wake_fd(), ZMQ_POLLIN, 0}};
    Result<int> ready = PollSockets(
        items, 3, std::chrono::milliseconds(std::clamp<int64_t>(wait_us / 1000 + 1, 0, 100)));
    if (!ready.ok()) {
      // The socket or context is unusable: stop, still draining what was recorded.
      log_->Error("core_poll_failed", {{"reason", ready.status().ToString()}});
      polled = ready.status();
      break;
    }
    if (Status released = ReleaseDurable(); !released.ok()) {
      RecordsFailed(released);
      continue;
    }
    for (const std::string& gone : backlog_.Retry(send_now_)) {
      NodeGone(gone, Status::Unavailable("peer not connected"));
    }
    if (replica_) {
      Status kept = replica_->Maintain();
      if (kept.code() == Status::Code::kFailedPrecondition) {
        StepDown(kept);
        continue;
      }
      if (!kept.ok()) {
        RecordsFailed(kept);  // refuse clearly; ProbeRecords reclaims leadership
        continue;
      }
    }
    if (reload.exchange(false)) ReloadPolicy();
    if (items[2].revents & ZMQ_POLLIN) ApplyReads();
    ReceiveAll();
    broker_->ExpireDeadlines();
    RecordRefusals(/*all=*/false);
    Commit();
    // A small commit may have been made on this thread (CommitPipeline::Submit): release
    // what waited for it now, not after the next poll.
    if (Status released = ReleaseDurable(); !released.ok()) {
      RecordsFailed(released);
      continue;
    }
    // Replicated: the batch just released is on a majority in etcd; this site's store
    // takes it now, off the decision's path, before anything else is read or committed.
    if (replica_) {
      if (Status applied = replica_->ApplyCommitted(); !applied.ok()) {
        RecordsFailed(applied);
        continue;
      }
    }
    broker_->Forget();
    stats_->open_exchanges.Set(static_cast<int64_t>(broker_->open_count()));
    stats_->backlog.Set(static_cast<int64_t>(backlog_.held()));
    stats_->handshakes_refused.Set(static_cast<int64_t>(zap_->refused()));
    stats_->backlog_dropped.Set(static_cast<int64_t>(backlog_.dropped()));
    stats_->records.Set(static_cast<int64_t>(records_->Size()));
  }
  if (following_) {
    log_->Info("core_stopping", {{"role", "follower"}});
    return polled;
  }
  // Make everything recorded so far durable and deliver what waited for it.
  if (records_down_) {
    log_->Warn("core_stopping_without_records",
               {{"refusals_unrecorded", refusals_.open()}, {"records_unwritten", lazy_.size()}});
    return polled;
  }
  reads_->Stop();  // the read under way finishes; its output is applied here
  ApplyReads();
  RecordRefusals(/*all=*/true);
  Commit(/*force=*/true);
  Status drained = pipeline_->Drain();
  if (drained.ok()) drained = ReleaseDurable();
  if (drained.ok() && replica_) drained = replica_->ApplyCommitted();
  if (!drained.ok()) log_->Error("records_commit_failed", {{"reason", drained.ToString()}});
  log_->Info("core_stopping", {{"open_exchanges", broker_->open_count()},
                               {"commits", stats_->commit_latency.count()},
                               {"inline_commits", pipeline_->inline_commits()},
                               {"commit_p50_us", stats_->commit_latency.QuantileMicros(0.5)},
                               {"decision_p50_us", stats_->decision_latency.QuantileMicros(0.5)},
                               {"exchange_p50_us", stats_->exchange_latency.QuantileMicros(0.5)}});
  return polled.ok() ? drained : polled;
}

void CoreRouter::Impl::ReceiveAll() {
  for (int i = 0; i < kMaxMessagesPerBatch; ++i) {
    Incoming in;
    Result<bool> got = ReceiveFromRouter(*router_, &in);
    if (!got.ok()) {
      log_->Warn("malformed_message", {{"reason", got.status().message()}});
      continue;
    }
    if (!*got) break;
    if (in.envelope.has_inquiry()) batch_.decided.push_back(NowMicros());
    Dispatch(in);
  }
}

// Records that gate nothing (outcomes, receipts, audit of nothing sent) wait up to
// kLazyRecordDelayUs to share the next sync; records that gate a message (a decision, a
// refusal, a timeout) are submitted at once together with every lazy record before them,
// so the log's order is the order the loop added them in.
void CoreRouter::Impl::Commit(bool force) {
  if (replica_) CommitIssuances();
  const int64_t now = NowMicros();
  if (!batch_.records.empty() && batch_.outbox.empty() && !force) {
    if (lazy_.empty()) lazy_since_us_ = now;
    for (auto& r : batch_.records) lazy_.push_back(std::move(r));
    batch_.records.clear();
  }
  const bool lazy_due = !lazy_.empty() && (force || now - lazy_since_us_ >= kLazyRecordDelayUs ||
                                           lazy_.size() >= kMaxLazyRecords);
  if (batch_.records.empty() && !lazy_due) {
    Flush(&batch_.outbox);  // nothing to wait for: pongs, welcomes, duplicates, issuance
    batch_ = Batch();
    return;
  }
  std::vector<records::Record> records = std::move(lazy_);
  lazy_.clear();
  for (auto& r : batch_.records) records.push_back(std::move(r));
  stats_->records_appended.Add(records.size());
  pipeline_->Submit(std::move(records), std::move(batch_.outbox), std::move(batch_.decided));
  batch_ = Batch();
}

Status CoreRouter::Impl::ReleaseDurable() {
  std::vector<CommitPipeline::Released> released;
  Status s = pipeline_->TakeDurable(&released);
  for (auto& r : released) {
    Flush(&r.outbox);
    for (int64_t arrived : r.tags) stats_->decision_latency.ObserveMicros(NowMicros() - arrived);
  }
  return s;
}

void CoreRouter::Impl::Dispatch(Incoming& in) {
  // A resident code is wiped when its message has been handled, whichever way that went:
  // refused at the door, unrecordable, or issued. (has_ first: mutable_ would create one.)
  WipeOnExit wipe_code(in.envelope.has_issue_symbol_request()
                           ? in.envelope.mutable_issue_symbol_request()->mutable_resident_code()
                           : nullptr);
  // The routing id a node chose must be the agency its key authenticated as.
  if (in.user_id.empty() || in.routing_id != in.user_id) {
    return RefuseMessage(in, v1::ERROR_CODE_PERMISSION_DENIED, "IDENTITY_MISMATCH",
                         "the node's routing id must be its agency code");
  }
  if (!Recordable(in)) return;
  if (records_down_ && !in.envelope.has_hello() && !in.envelope.has_ping()) {
    return RefuseMessage(in, v1::ERROR_CODE_UNAVAILABLE, "RECORDS_UNAVAILABLE",
                         "records unavailable: the core cannot write provision records now, so "
                         "it records, forwards and answers nothing; try again later");
  }
  const std::string& from = in.user_id;
  switch (in.envelope.body_case()) {
    case v1::Envelope::kHello: return HandleHello(in);
    case v1::Envelope::kIssueSymbolRequest: return HandleIssueSymbol(in);
    case v1::Envelope::kInquiry: return broker_->OnInquiry(from, in.envelope);
    case v1::Envelope::kProvisionOutcome: return broker_->OnOutcome(from, in.envelope);
    case v1::Envelope::kReceipt: return broker_->OnReceipt(from, in.envelope);
    case v1::Envelope::kPing: return HandlePing(in);
    case v1::Envelope::kRecordQuery:
    case v1::Envelope::kTreeHeadRequest:
    case v1::Envelope::kStatsQuery: return SubmitRead(in);
    default:
      RefuseMessage(in, v1::ERROR_CODE_MALFORMED, "UNSUPPORTED_MESSAGE",
                    "the core does not accept this message type");
  }
}

v1::Envelope CoreRouter::Impl::Reply(const std::string& request_id) const {
  v1::Envelope e;
  StampEnvelope(&e, request_id, NowMicros());
  return e;
}

void CoreRouter::Impl::SendError(const Incoming& in, v1::ErrorCode code,
                                 const std::string& reason) {
  v1::Envelope e = Reply(in.envelope.request_id());
  e.mutable_error()->set_code(code);
  e.mutable_error()->set_reason(reason);
  SendAfterCommit(in.routing_id, std::move(e));
}

void CoreRouter::Impl::HandlePing(const Incoming& in) {
  v1::Envelope e = Reply(in.envelope.request_id());
  e.mutable_pong()->set_component("core");
  e.mutable_pong()->set_status("ok");
  SendAfterCommit(in.routing_id, std::move(e));
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
