// CoreRouter: the provision-record store's life in the core — opened at start, lost when a
// write fails (a full disk, an I/O error), and reopened by the core itself.
//
// A failed write means the batch it carried, and every batch behind it, was never
// acknowledged: their decisions and replies are dropped, never sent. The core then stops
// everything that needs a record — inquiries, outcomes, receipts, reads, issuance — and
// refuses each with "records unavailable" (ERROR_CODE_UNAVAILABLE), counted in the
// refusal ledger, whose tallies are recorded once records are back. Nothing is written
// half-way: RocksDB writes a batch whole or not at all, and the store is closed and
// reopened from disk, as after a crash (its recovery is the tested path). Every second the
// core tries to reopen the store and close the exchanges the failure left open (each gets
// its end on record: CORE_RESTARTED or NOT_CONFIRMED, core/exchange_recovery.h); when
// both succeed — space has returned — it serves again with a fresh inquiry broker.
#include <sodium.h>

#include <algorithm>

#include "core/core_router_impl.h"
#include "core/exchange_recovery.h"

namespace ipn::core {
namespace {

constexpr int64_t kRecordsProbeIntervalUs = 1'000'000;
constexpr uint64_t kProbesPerLogLine = 10;  // a long outage logs every 10 s, not every probe

}  // namespace

Status CoreRouter::Impl::OpenRecordStore() {
  Result<symbol::RecordKeys> record_keys = symbols_->GetRecordKeys();
  if (!record_keys.ok()) return record_keys.status().WithContext("record keys");
  if (record_keys->encryption.empty()) return Status::FailedPrecondition("no records key");
  // The exchange-id key, from the newest records key (subkey 3, context "ipnxchg1";
  // subkeys 1 and 2 seal the replicated log and backups).
  exchange_id_key_ = SecretBytes(crypto_generichash_KEYBYTES);
  crypto_kdf_derive_from_key(exchange_id_key_.data(), exchange_id_key_.size(), 3, "ipnxchg1",
                             record_keys->encryption.back().second.data());
  records::RecordStoreOptions ropts;
  ropts.dir = options_.data_dir + "/records";
  ropts.encryption_keys = std::move(record_keys->encryption);
  if (records_signer_ != nullptr) {
    ropts.signer = records_signer_;  // heads and purges are signed inside the token
  } else {
    ropts.signing_secret_key = std::move(record_keys->signing_secret_key);
  }
  ropts.clock = clock_;
  ropts.logger = log_;
  // Replicated: etcd is where a batch counts as committed; this store is fed from it and
  // syncs before it reports how far it has applied (RecordReplicator::PublishApplied).
  ropts.sync_wal = replica_ == nullptr;
  auto store = records::RecordStore::Open(std::move(ropts));
  if (!store.ok()) return store.status().WithContext("records");
  records_ = std::move(*store);
  pipeline_ = std::make_unique<CommitPipeline>(records_.get(), &stats_->commit_latency, clock_);
  if (replica_) {
    IPN_RETURN_IF_ERROR(replica_->Attach(records_.get(), symbols_.get()));
    pipeline_->set_committer(
        [this](std::vector<records::Record>& batch) { return replica_->Commit(batch); });
  }
  return pipeline_->Init();
}

// The record readers and the inquiry broker over the store just opened.
Status CoreRouter::Impl::StartServing() {
  reads_ =
      std::make_unique<ReadWorker>(records_.get(), symbols_.get(), policy_.get(), clock_, log_);
  IPN_RETURN_IF_ERROR(reads_->Start());
  BrokerOptions bopts;
  bopts.provider_deadline_us = options_.provider_deadline_us;
  broker_ =
      std::make_unique<InquiryBroker>(InquiryBroker::Deps{this, policy_.get(), symbols_.get(),
                                                          &nodes_, stats_.get(), log_, &refusals_},
                                      bopts);
  return Status::Ok();
}

void CoreRouter::Impl::RecordsFailed(const Status& why) {
  log_->Error("records_unavailable",
              {{"reason", why.ToString()},
               {"unacknowledged_batches", pipeline_ ? pipeline_->in_flight() : 0}});
  // The inquiries decided in the batches that will never be durable end now, clearly,
  // rather than at their nodes' deadlines.
  const std::string refusal = "records unavailable: the core could not record the decision";
  if (pipeline_) {
    for (Outbox& outbox : pipeline_->TakeUnacknowledged()) {
      for (auto& [agency, e] : outbox) {
        if (!e.has_inquiry_decision()) continue;
        v1::Envelope err = Reply(e.request_id());
        err.mutable_error()->set_code(v1::ERROR_CODE_UNAVAILABLE);
        err.mutable_error()->set_reason(refusal);
        refusals_.Add(agency, "RECORDS_UNAVAILABLE", e.request_id(), NowMicros());
        (void)Send(agency, std::move(err));
      }
    }
  }
  records_down_ = true;
  records_probes_ = 0;
  next_records_probe_us_ = NowMicros() + kRecordsProbeIntervalUs;
  stats_->records_available.Set(0);
  if (reads_) reads_->Stop();  // a read under way finishes; its reply is dropped
  reads_.reset();
  if (replica_) replica_->Detach();
  broker_.reset();   // its open exchanges are closed from the log when the store is back
  records_.reset();  // the store first: appends still queued fail into the pipeline
  pipeline_.reset();
  // Records that gate nothing and were never submitted (outcomes, receipts: lazy_) wait
  // for the store to come back; they were not in the failed write.
  batch_ = Batch();
}

void CoreRouter::Impl::ProbeRecords() {
  const int64_t now = NowMicros();
  if (now < next_records_probe_us_) return;
  next_records_probe_us_ = now + kRecordsProbeIntervalUs;
  ++records_probes_;
  Status s = OpenRecordStore();
  // A replicated core leads again first (or steps down if another core leads now) and
  // takes in what etcd committed: the failed batch may be there.
  if (s.ok() && replica_) {
    const int64_t term = replica_->term();
    Result<bool> led = replica_->Reclaim(policy_->Current()->version());
    if (led.ok() && !*led) {
      StepDown(Status::FailedPrecondition("another core leads: " + replica_->leader()));
      return;
    }
    s = led.status();
    // Led again, but under a new lease: another leader may have led meanwhile and closed
    // the exchanges these outcomes and receipts belong to. They are dropped, not replayed.
    if (s.ok() && replica_->term() != term) lazy_.clear();
  }
  // The outcomes and receipts held back first, so that the exchanges they end are not
  // also closed as interrupted.
  if (s.ok() && !lazy_.empty()) s = AppendDurable(lazy_);
  if (s.ok()) lazy_.clear();
  if (s.ok()) s = CloseInterrupted();
  if (s.ok()) s = StartServing();
  if (!s.ok()) {
    reads_.reset();
    if (replica_) replica_->Detach();
    records_.reset();
    pipeline_.reset();
    if (records_probes_ % kProbesPerLogLine == 1) {
      log_->Warn("records_still_unavailable",
                 {{"reason", s.ToString()}, {"probes", records_probes_}});
    }
    return;
  }
  records_down_ = false;
  stats_->records_available.Set(1);
  log_->Info("records_available_again", {{"probes", records_probes_}});
}

// The loop while records are down: Hellos and pings are served, everything else is
// refused (Dispatch), and the store is probed. A policy reload waits until records are
// back (its audit records could not be written). A poll error ends the loop, as in Run.
Status CoreRouter::Impl::RunRecordsDown() {
  zmq::pollitem_t items[] = {{router_->handle(), 0, ZMQ_POLLIN, 0}};
  Result<int> ready = PollSockets(items, 1, std::chrono::milliseconds(100));
  if (!ready.ok()) return ready.status();
  for (const std::string& gone : backlog_.Retry(send_now_)) {
    NodeGone(gone, Status::Unavailable("peer not connected"));
  }
  ReceiveAll();
  Flush(&batch_.outbox);  // replies that wait for no record (welcomes, pongs)
  batch_.outbox.clear();
  ProbeRecords();
  return Status::Ok();
}

// What the last run left open gets its end on record before anyone is served. An exchange
// stays open at most its deadline plus the receipt grace after its acceptance, so the log
// is read back that far (and a second more) from its last record.
int64_t CoreRouter::Impl::OpenExchangesSince() const {
  int64_t last = NowMicros();
  if (const uint64_t size = records_->Size(); size > 0) {
    if (Result<records::Record> r = records_->Get(size - 1); r.ok()) {
      last = std::min(last, r->time_unix_us);
    }
  }
  return last - (options_.provider_deadline_us + BrokerOptions().receipt_grace_us + 1'000'000);
}

Status CoreRouter::Impl::CloseInterrupted() {
  const int64_t now = NowMicros();
  Result<std::vector<records::Record>> closing =
      CloseInterruptedExchanges(*records_, OpenExchangesSince(), now);
  if (!closing.ok()) return closing.status().WithContext("closing interrupted exchanges");
  if (closing->empty()) return Status::Ok();
  IPN_RETURN_IF_ERROR(AppendDurable(*closing).WithContext("closing interrupted exchanges"));
  log_->Warn("interrupted_exchanges_closed", {{"count", closing->size()}});
  return Status::Ok();
}

}  // namespace ipn::core
