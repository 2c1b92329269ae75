// CoreRouter: one site of a replicated core (DESIGN.md §8, docs/replication.md).
//
//   Run ─► RunFollowing ─► CoreReplica::FollowStep (apply what etcd committed, campaign)
//              └─ won ─► BecomeLeader ─► bind, start-up records, ResumeInterrupted ─► serve
//   serving ─► CoreReplica::Maintain (renew the lease, trim the window)
//              ├─ lease gone ─► StepDown (unbind, drop the exchanges in memory) ─► following
//              └─ no quorum ─► RecordsFailed ─► refuse "records unavailable" ─► ProbeRecords
//                                              ─► CoreReplica::Reclaim ─► serve again
//
// A follower binds nothing, so interface nodes — connected to every site's endpoint — reach
// only the leader. The exchanges a former leader left open go on at the new one, read from
// the log (ResumeInterrupted): the nodes send again what the failover may have lost, and
// each exchange ends as it would have, or at its deadline, with its end on record.
#include <sodium.h>

#include <chrono>
#include <thread>

#include "common/zmq_call.h"
#include "core/core_router_impl.h"
#include "core/operator_audit.h"

namespace ipn::core {
namespace {

constexpr auto kFollowEvery = std::chrono::milliseconds(100);
constexpr uint64_t kFollowFailuresPerLogLine = 50;         // a long outage logs every ~5 s
constexpr int64_t kAwaitNodesAfterTakeoverUs = 3'000'000;  // the ZMTP heartbeat's timeout

}  // namespace

Status CoreRouter::Impl::OpenReplica() {
  Result<symbol::RecordKeys> keys = symbols_->GetRecordKeys();
  if (!keys.ok()) return keys.status().WithContext("record keys");
  ReplicaOptions o;
  o.etcd_endpoints = options_.etcd_endpoints;
  o.site = options_.site;
  o.sites = options_.sites;
  o.lease_ttl_s = options_.lease_ttl_s;
  auto replica = CoreReplica::Open(std::move(o), std::move(keys->encryption), clock_, log_);
  if (!replica.ok()) return replica.status().WithContext("replication");
  replica_ = std::move(*replica);
  return Status::Ok();
}

Status CoreRouter::Impl::AppendDurable(std::vector<records::Record>& records) {
  if (!replica_) return records_->AppendBatch(records);
  IPN_RETURN_IF_ERROR(replica_->Commit(records));
  // In this site's store before returning: what follows (closing interrupted exchanges,
  // the duplicate guard, the read worker) reads the store and must see these records.
  // Only the loop's pipeline leaves the local append until after its release.
  return replica_->ApplyCommitted();
}

Status CoreRouter::Impl::RunFollowing(const std::atomic<bool>& stop) {
  Status step = records_ ? Status::Ok() : OpenRecordStore();
  if (step.ok()) {
    Result<bool> led = replica_->FollowStep(policy_->Current()->version());
    stats_->records.Set(static_cast<int64_t>(records_->Size()));
    if (led.ok() && *led) {
      Status became = BecomeLeader();
      if (became.ok()) {
        follow_failures_ = 0;
        return Status::Ok();
      }
      StepDown(became);
      step = became;
    } else {
      step = led.status();
      // The store refused a write (a full disk): reopen it at the next step, as after a
      // crash, instead of failing every step on a store that refuses until reopened.
      if (step.code() == Status::Code::kIoError ||
          step.code() == Status::Code::kResourceExhausted) {
        replica_->Detach();
        pipeline_.reset();
        records_.reset();
      }
    }
  }
  if (!step.ok() && follow_failures_++ % kFollowFailuresPerLogLine == 0) {
    log_->Warn("replica_cannot_follow",
               {{"reason", step.ToString()}, {"failures", follow_failures_}});
  }
  if (step.ok()) follow_failures_ = 0;
  // Paced: one etcd read and one campaign per step. `stop` is looked at every 10 ms.
  const auto until = std::chrono::steady_clock::now() + kFollowEvery;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::Ok();
}

Status CoreRouter::Impl::BecomeLeader() {
  // Bound first: a port still held for a moment after a step-down fails here, before
  // anything is recorded, rather than after a start record every retry.
  if (!router_) IPN_RETURN_IF_ERROR(OpenTransport());
  IPN_RETURN_IF_ERROR(RecordStartup(
      records_.get(), *symbols_, policy_->Current()->version(), NowMicros(),
      [this](std::vector<records::Record>& batch) { return AppendDurable(batch); },
      [this](const std::string& b, const std::string& a) { return KeyChangeActorsOf(b, a); },
      start_changes_));
  IPN_RETURN_IF_ERROR(KeepStartConfiguration());
  start_changes_.clear();  // a later takeover records only its own start
  IPN_RETURN_IF_ERROR(StartServing());
  // Every node reconnects and says Hello within a moment (a paused leader's connections
  // drop at the heartbeat's timeout): until then an inquiry waits for its provider's node.
  broker_->AwaitNodesUntil(NowMicros() + kAwaitNodesAfterTakeoverUs);
  IPN_RETURN_IF_ERROR(ResumeInterrupted());
  send_now_ = [this](std::string_view to, const v1::Envelope& e) {
    return SendToPeer(*router_, to, e);
  };
  following_ = false;
  records_down_ = false;
  stats_->leading.Set(1);
  stats_->records_available.Set(1);
  log_->Info("core_leading",
             {{"site", options_.site}, {"endpoint", endpoint_}, {"records", records_->Size()}});
  return Status::Ok();
}

Status CoreRouter::Impl::ResumeInterrupted() {
  Result<std::vector<OpenExchange>> open =
      FindOpenExchanges(*records_, OpenExchangesSince(), NowMicros());
  if (!open.ok()) return open.status().WithContext("finding the exchanges left open");
  const size_t resumed = broker_->Resume(*open);
  stats_->resumed.Add(resumed);
  stats_->open_exchanges.Set(static_cast<int64_t>(broker_->open_count()));
  if (resumed > 0) log_->Info("open_exchanges_resumed", {{"count", resumed}});
  return Status::Ok();
}

void CoreRouter::Impl::StepDown(const Status& why) {
  log_->Warn("core_stepped_down", {{"site", options_.site}, {"reason", why.ToString()}});
  // Decisions waiting for batches this core will never commit: their inquirers hear it
  // now rather than at their deadlines, and send again to the new leader.
  if (pipeline_ && router_) {
    for (Outbox& outbox : pipeline_->TakeUnacknowledged()) {
      for (auto& [agency, e] : outbox) {
        if (!e.has_inquiry_decision()) continue;
        v1::Envelope err = Reply(e.request_id());
        err.mutable_error()->set_code(v1::ERROR_CODE_UNAVAILABLE);
        err.mutable_error()->set_reason("records unavailable: this core no longer leads");
        (void)SendToPeer(*router_, agency, err);
      }
    }
  }
  if (reads_) reads_->Stop();
  reads_.reset();
  broker_.reset();                       // the new leader closes its open exchanges from the log
  for (auto& [to, e] : batch_.outbox) {  // never sent: symbols in them are wiped
    if (!e.has_symbol_issued()) continue;
    std::string* s = e.mutable_symbol_issued()->mutable_agency_symbol();
    sodium_memzero(s->data(), s->size());
  }
  batch_ = Batch();
  lazy_.clear();
  for (v1::Issuance& i : issuances_) {  // never committed: nobody heard of them
    std::string* linkage = i.mutable_linkage_symbol();
    sodium_memzero(linkage->data(), linkage->size());
  }
  issuances_.clear();
  nodes_ = ConnectedNodes();
  backlog_ = PeerBacklog();
  router_.reset();  // nodes lose this endpoint and find the leader's
  if (zap_) zap_->Stop();
  zap_.reset();
  (void)replica_->Resign();
  // A fresh pipeline over the store, without the batches that will never be committed.
  if (records_) {
    pipeline_ = std::make_unique<CommitPipeline>(records_.get(), &stats_->commit_latency, clock_);
    pipeline_->set_committer(
        [this](std::vector<records::Record>& batch) { return replica_->Commit(batch); });
    if (Status s = pipeline_->Init(); !s.ok())
      log_->Error("pipeline_init_failed", {{"reason", s.ToString()}});
  }
  following_ = true;
  records_down_ = false;
  stats_->leading.Set(0);
}

}  // namespace ipn::core
