// RecordReplicator: the provision-record log on every site (DESIGN.md §8). The leader
// commits each batch of records to the replicated log in etcd — sealed, fenced by its
// leadership — and only then to its own record store; every replica (the leader too,
// after a restart) applies the batches it has not yet applied, in order and each at the
// tree position it names, so all stores hold the same records under the same sequences
// and their Merkle trees have the same heads at equal sizes. A batch is acknowledged once
// etcd committed it on a majority of members; each store is fed from etcd, never the
// other way round.
//
// In etcd a batch is sealed (XChaCha20-Poly1305, libsodium) under a key derived from the
// records key both sites hold, bound to its log key, so etcd's disk holds no readable
// record and an entry moved to another position does not open.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/secret.h"
#include "common/status.h"
#include "ipn/v1/replica.pb.h"
#include "records/record.h"
#include "records/record_store.h"
#include "replica/etcd_client.h"
#include "replica/leadership.h"
#include "replica/replicated_log.h"

namespace ipn::replica {

struct ReplicatorOptions {
  std::string site;  // this replica's name ("east"); its applied position is published under it
  std::string log_prefix = "/ipn/log/";
  std::string applied_prefix = "/ipn/applied/";
  // The records keys (version, 32 bytes), highest last: the highest seals, every listed
  // version opens. Both sites hold the same ring.
  std::vector<std::pair<uint32_t, SecretBytes>> keys;
  int64_t read_page = 256;  // entries per read while catching up
  // The window's bound: entries beyond this many behind the newest are trimmed even if a
  // site has not applied them (that site must then be restored from another's checkpoint),
  // so a site down for long cannot fill etcd (its quota would stop every commit).
  uint64_t max_window_entries = 100'000;
  // Where issuances committed by the leader go (the site's issuance file). Without it a
  // batch of issuances cannot be applied.
  std::function<Status(const v1::Issuance&)> issuance_sink;
};

// The replicated log entry a record store last reported applied, kept with it (nullopt:
// none kept). What a restart, and a restored backup, resume after.
Result<std::optional<uint64_t>> KeptAppliedEntry(const records::RecordStore& store);

class RecordReplicator {
 public:
  // Does not take ownership. `store` must not be appended to by anything else.
  static Result<std::unique_ptr<RecordReplicator>> Create(EtcdClient* etcd,
                                                          records::RecordStore* store,
                                                          ReplicatorOptions options);
  ~RecordReplicator();

  // Leader: applies everything committed so far, then learns where the next batch goes.
  // Call after winning leadership and before the first Commit.
  Status PrepareToLead();
  // Leader: commits `records` (each with its time set; sequences are assigned here) under
  // `fence`. Returns once a majority of etcd's members hold the batch: it is acknowledged
  // then, and what waited for it may be released before this store has it. The batch is
  // kept (a copy) until ApplyCommitted appends it here; every other call
  // below applies it first, so nothing sees this store out of step with the log.
  // FailedPrecondition: leadership lost, nothing committed. Unavailable: no quorum; the
  // batch may yet be committed — the next PrepareToLead or CatchUp settles which, and the
  // caller must treat its records as not acknowledged.
  Status Commit(const Fence& fence, std::vector<records::Record>& records);
  // Leader: appends the batch Commit last committed to the local store (nothing to do if
  // none waits). If that fails (a full disk) the batch is still committed: the error says
  // so, and the next PrepareToLead applies it from etcd.
  Status ApplyCommitted();
  // Leader: commits symbol issuances (applied locally already, by the issuing call).
  Status CommitIssuances(const Fence& fence, const std::vector<v1::Issuance>& issuances);
  // Any replica: applies every committed batch it has not applied; returns how many.
  // FailedPrecondition when entries it never applied were trimmed from etcd (it must be
  // restored from another replica's backup).
  Result<uint64_t> CatchUp();
  // Makes this store durable, keeps its applied position with it (where the next start
  // resumes), then publishes that position (what the leader's Trim reads).
  Status PublishApplied();
  // Leader: removes the batches every site in `sites` has applied; returns how many.
  Result<int64_t> Trim(const std::vector<std::string>& sites);

  // The log entry this store applied last (0: none).
  uint64_t applied() const { return applied_entry_; }

  // The value of a log entry for `key` (exposed for tests of the sealing).
  Result<std::string> Seal(const std::string& log_key, const v1::ReplicaBatch& batch) const;
  Result<v1::ReplicaBatch> Open(const std::string& log_key, const std::string& value) const;

 private:
  RecordReplicator(EtcdClient* etcd, records::RecordStore* store, ReplicatorOptions options);
  Status Apply(const LogEntry& entry);
  // Seals `batch` and appends it at next_entry_ under `fence`; returns its entry.
  Result<uint64_t> AppendNext(const Fence& fence, const v1::ReplicaBatch& batch);

  EtcdClient* etcd_;
  records::RecordStore* store_;
  ReplicatorOptions options_;
  ReplicatedLog log_;
  std::vector<std::pair<uint32_t, SecretBytes>> seal_keys_;  // derived, per version
  uint64_t applied_entry_ = 0;  // starts from the store's kept position
  uint64_t persisted_entry_ = 0;
  bool position_unknown_ = false;  // a store from before positions were kept (see Create)
  uint64_t next_entry_ = 0;        // leader: where the next batch goes (0: PrepareToLead first)
  // Leader: the batch committed at pending_entry_ that this store has not appended yet
  // (ApplyCommitted); empty when none.
  std::vector<records::Record> pending_;
  uint64_t pending_entry_ = 0;
};

}  // namespace ipn::replica
