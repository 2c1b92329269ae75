// CoreReplica: the core's side of replication (DESIGN.md §8, docs/replication.md). Over
// etcd it decides whether this core leads, keeps the lease while it does, commits every
// batch of records through the replicated log (fenced: a core that lost its lease
// appends nothing), and, while it follows, feeds its record store from that log. It owns
// no socket and no thread: the core's loop calls it (CoreRouter::Impl, core_router_replica.cc).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/logger.h"
#include "common/secret.h"
#include "common/status.h"
#include "records/record_store.h"
#include "replica/etcd_client.h"
#include "replica/leadership.h"
#include "replica/record_replicator.h"
#include "symbol/symbol_service.h"

namespace ipn::core {

struct ReplicaOptions {
  std::vector<std::string> etcd_endpoints;       // empty: a core of its own, not replicated
  std::string site;                              // this core's site ("east")
  std::vector<std::string> sites;                // every site's name (trimming waits for all)
  int64_t lease_ttl_s = 2;                       // failover takes about this long
  std::chrono::milliseconds etcd_timeout{1500};  // one commit's wait for a quorum
};

class CoreReplica {
 public:
  static Result<std::unique_ptr<CoreReplica>> Open(
      ReplicaOptions options, std::vector<std::pair<uint32_t, SecretBytes>> keys,
      const Clock* clock, Logger* log);

  // The record store it feeds and commits to (again after the core reopened it), and the
  // issuance file that issuances committed by other sites go to.
  Status Attach(records::RecordStore* store, symbol::SymbolService* symbols);

  // Follower: applies what was committed and tries to lead. True once this core leads
  // and its store holds everything committed before (PrepareToLead).
  // `policy_version`: the bundle this site has in force. A site whose bundle is older than
  // the newest any leader served does not campaign (DESIGN.md §8): FailedPrecondition.
  Result<bool> FollowStep(uint64_t policy_version);
  // Leader, every loop turn: says whether the lease still stands (a thread of this object
  // renews it every third of its TTL, so a loop turn held up by slow commits does not cost
  // it), publishes how far this store is and trims the window now and then. FailedPrecondition:
  // etcd says the lease is gone (step down); Unavailable: it could not be renewed in time (no
  // quorum): refuse what needs a record and Reclaim until etcd answers.
  Status Maintain();
  // After a failed commit or a lapsed lease: leads again if it can (campaign, then take in
  // what was committed — the failed batch may be there). False: another core leads.
  Result<bool> Reclaim(uint64_t policy_version);
  // Leader: records `version` as the newest bundle served (never lowers it).
  Status PublishPolicy(uint64_t version);
  // The store is about to close: nothing may use it until the next Attach.
  void Detach() { replicator_.reset(); }
  // Leader: commits `records` (times filled in when 0) through etcd; what waited for them
  // may be released when it returns. The local store gets them at ApplyCommitted (or at
  // the next call that needs the store in step), so call that once the release is sent.
  Status Commit(std::vector<records::Record>& records);
  // Leader: appends the last committed batch to the local store. An error means the store
  // is behind the log (the batch stays committed): refuse until Reclaim catches up.
  Status ApplyCommitted();
  // Leader: commits issuances just made (SymbolService::Issue), for the other sites.
  Status CommitIssuances(const std::vector<v1::Issuance>& issuances);
  Status Resign();

  bool leading() const { return leadership_->Leading(); }
  // Which leadership this is (the fence's revision; 0 while not leading).
  int64_t term() const { return leadership_->fence().revision; }
  ~CoreReplica();
  std::string leader() const { return leadership_->leader(); }
  const std::string& site() const { return options_.site; }

 private:
  CoreReplica(ReplicaOptions options, std::vector<std::pair<uint32_t, SecretBytes>> keys,
              const Clock* clock, Logger* log)
      : options_(std::move(options)), keys_(std::move(keys)), clock_(clock), log_(log) {}

  Status CheckPolicy(uint64_t mine);

  ReplicaOptions options_;
  std::vector<std::pair<uint32_t, SecretBytes>> keys_;
  const Clock* clock_;
  Logger* log_;
  std::unique_ptr<replica::EtcdClient> etcd_;
  std::unique_ptr<replica::Leadership> leadership_;
  std::unique_ptr<replica::RecordReplicator> replicator_;
  int64_t next_trim_us_ = 0;
  int64_t next_publish_us_ = 0;  // a follower's next report of how far it applied
  // The lease keeper: renews whatever lease is held, every third of the TTL.
  void KeepLease();
  std::thread keeper_;
  std::mutex keeper_mu_;
  std::condition_variable keeper_cv_;
  bool stopping_ = false;
};

}  // namespace ipn::core
