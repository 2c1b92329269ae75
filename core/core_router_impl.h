// CoreRouter::Impl (internal to core_router.cc): the core's loop state and the CoreEnv
// the rules (InquiryBroker, RecordAccess, OperatorAudit) talk to. Declared apart so that
// core_router.cc holds the behaviour only; see core_router.cc for the data path.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/curve_keys.h"
#include "common/envelope_io.h"
#include "common/key_custody.h"
#include "common/logger.h"
#include "common/metrics.h"
#include "common/metrics_server.h"
#include "common/zap_handler.h"
#include "core/commit_pipeline.h"
#include "core/connected_nodes.h"
#include "core/core_env.h"
#include "core/core_replica.h"
#include "core/core_router.h"
#include "core/core_stats.h"
#include "core/inquiry_broker.h"
#include "core/operator_audit.h"
#include "core/peer_backlog.h"
#include "core/read_worker.h"
#include "core/record_access.h"
#include "core/refusal_ledger.h"
#include "policy/policy_store.h"
#include "policy/two_person.h"
#include "records/audit_record.h"
#include "records/record_store.h"
#include "symbol/symbol_service.h"

namespace ipn::token {
class Pkcs11Token;
}  // namespace ipn::token

namespace ipn::core {

class CoreRouter::Impl : public CoreEnv {
 public:
  Status Init(CoreOptions options);
  Status Run(const std::atomic<bool>& stop, std::atomic<bool>& reload);
  std::string endpoint() const { return endpoint_; }
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : -1; }
  ~Impl() override;

  // CoreEnv: what the rules see of this loop.
  int64_t NowMicros() const override { return clock_->NowMicros(); }
  void AddRecord(records::Record record) override { batch_.records.push_back(std::move(record)); }
  void SendAfterCommit(std::string agency, v1::Envelope envelope) override {
    batch_.outbox.emplace_back(std::move(agency), std::move(envelope));
  }
  Status SendNow(std::string_view agency, const v1::Envelope& envelope) override {
    return Send(std::string(agency), envelope);
  }
  std::string NewExchangeId(std::string_view inquirer, std::string_view request_id) override;
  bool RequestIdRecorded(std::string_view inquirer, std::string_view request_id) override;

 private:
  // What one iteration of the loop produced: records to make durable, then messages.
  struct Batch {
    std::vector<records::Record> records;
    Outbox outbox;                 // sent once the batch's records are durable
    std::vector<int64_t> decided;  // arrival times of the inquiries decided in this batch
  };

  Status OpenStores();
  // The key ring (passphrase, or a PKCS#11 token's key-encryption key) and, with a token,
  // the records signing key inside it (core_router_keys.cc).
  Status OpenKeyRing();
  // Who made each key change between two starts (the start-up audit's actors): the
  // journal's approvers, change by change, when they verify against the roster; "core" for
  // agencies' first keys; "unapproved" when the roster requires approvals and the chain of
  // changes breaks or does not verify.
  Status KeepRosterBesideRing() const;
  // core_router_policy.cc: the replica set and the policy bundle the core starts with,
  // under the two-person rule (policy/start_config.h): refused without their approvals
  // (RefuseStart: logged, and recorded by a core of its own), a change since the last
  // start recorded with the start, naming them.
  Status LoadReplicaSet();
  Status LoadStartBundle();
  Status RefuseStart(const std::string& what, const Status& why);
  Status KeepStartConfiguration();
  std::vector<records::AuditRecord> start_changes_;              // recorded with the start
  std::vector<std::pair<std::string, std::string>> start_kept_;  // (path, form) once recorded
  KeyChangeActors KeyChangeActorsOf(const std::string& before, const std::string& after) const;
  // core_router_records.cc: the record store's life in the core — opened, lost to a failed
  // write (disk full), reopened by itself.
  Status OpenRecordStore();
  Status CloseInterrupted();
  // How far back the log may hold an exchange that is still open (deadline + grace).
  int64_t OpenExchangesSince() const;
  // A new leader: the exchanges the log shows open go on in its broker (Resume).
  Status ResumeInterrupted();
  Status StartServing();
  void RecordsFailed(const Status& why);
  void ProbeRecords();
  Status RunRecordsDown();
  // core_router_replica.cc: one site of a replicated core — following (its store fed from
  // etcd, no socket bound), leading (every batch committed through etcd), stepping down.
  Status OpenReplica();
  Status RunFollowing(const std::atomic<bool>& stop);
  Status BecomeLeader();
  void StepDown(const Status& why);
  // Makes `records` durable outside the pipeline (start-up audit, closing interrupted
  // exchanges): through etcd when replicated, else the store's own synced write; in this
  // site's store on return either way.
  Status AppendDurable(std::vector<records::Record>& records);
  void CommitIssuances();  // core_router_issuance.cc
  Status OpenTransport();
  Status StartMetrics();
  std::optional<std::string> Authenticate(std::span<const uint8_t, 32> key);
  void ReceiveAll();
  void Dispatch(Incoming& in);
  bool Recordable(const Incoming& in);
  void HandleHello(const Incoming& in);
  void SendWelcomes(const std::vector<std::string>& to);
  void HandleIssueSymbol(Incoming& in);
  Status OpenSealedCode(const std::string& sealed, std::string* code) const;
  void HandlePing(const Incoming& in);
  void SendError(const Incoming& in, v1::ErrorCode code, const std::string& reason);
  // An authenticated agency's message refused before any person is known: answered with
  // `reason`, counted in the refusal ledger under `ledger_reason`.
  void RefuseMessage(const Incoming& in, v1::ErrorCode code, std::string_view ledger_reason,
                     const std::string& reason);
  void RecordRefusals(bool all);
  // Record reads go to the ReadWorker; their audit records and replies come back here.
  void SubmitRead(const Incoming& in);
  void ApplyReads();
  void ReloadPolicy();
  void Commit(bool force = false);
  Status ReleaseDurable();
  void Flush(Outbox* outbox);
  // To a node: at once, or after what waits for it (PeerBacklog); Unavailable if gone.
  Status Send(const std::string& to, v1::Envelope envelope);
  void NodeGone(const std::string& agency, const Status& why);
  v1::Envelope Reply(const std::string& request_id) const;

  CoreOptions options_;
  SystemClock system_clock_;
  const Clock* clock_ = nullptr;
  Logger* log_ = nullptr;
  CurveKeyPair keys_;
  Metrics metrics_;
  std::unique_ptr<CoreStats> stats_;
  // With a token-protected key ring: the token (kept open: tree heads are signed in it)
  // and the records signer over its key. Declared before what uses them.
  std::shared_ptr<token::Pkcs11Token> token_;
  std::unique_ptr<KeyWrapper> ring_wrapper_;
  std::shared_ptr<const Ed25519Signer> records_signer_;
  std::unique_ptr<symbol::SymbolService> symbols_;
  std::unique_ptr<policy::PolicyStore> policy_;
  std::optional<policy::OperatorRoster> roster_;  // the two-person rule, when configured
  std::unique_ptr<CoreReplica> replica_;          // replicated cores only; outlives the pipeline
  bool following_ = false;                        // replicated and not leading: nothing bound
  uint64_t follow_failures_ = 0;
  std::vector<v1::Issuance> issuances_;       // this turn's, committed before its replies
  std::unique_ptr<CommitPipeline> pipeline_;  // declared first: destroyed after the store
  std::unique_ptr<records::RecordStore> records_;
  // Names exchanges (NewExchangeId): subkey 3 of the records key, the same at every site.
  SecretBytes exchange_id_key_;
  std::unique_ptr<ReadWorker> reads_;
  std::unique_ptr<InquiryBroker> broker_;
  ConnectedNodes nodes_;
  PeerBacklog backlog_;
  RefusalLedger refusals_;
  PeerBacklog::SendFn send_now_;       // the router send, for the backlog
  Batch batch_;                        // the current iteration's
  std::vector<records::Record> lazy_;  // records waiting to share a later sync
  int64_t lazy_since_us_ = 0;
  bool records_down_ = false;  // a write failed: refuse what needs a record, probe
  int64_t next_records_probe_us_ = 0;
  uint64_t records_probes_ = 0;
  // Two I/O threads: a node's connection is served by one of them, so a large message
  // being CURVE-encrypted for one node (a pull's page) does not hold up every other's.
  zmq::context_t context_{1};
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<zmq::socket_t> router_;
  std::string endpoint_;
  std::unique_ptr<MetricsServer> metrics_server_;
};

}  // namespace ipn::core
