// CoreReplica: leadership, fenced commits and catching up, for the core's loop.
#include "core/core_replica.h"

#include <sodium.h>

#include <algorithm>
#include <optional>

namespace ipn::core {
namespace {

constexpr int64_t kTrimEveryUs = 1'000'000;
// The newest policy bundle version any leader served (decimal).
constexpr const char* kPolicyKey = "/ipn/policy_version";

}  // namespace

Result<std::unique_ptr<CoreReplica>> CoreReplica::Open(
    ReplicaOptions options, std::vector<std::pair<uint32_t, SecretBytes>> keys, const Clock* clock,
    Logger* log) {
  if (options.site.empty()) return Status::InvalidArgument("a replicated core needs --site");
  if (options.lease_ttl_s < 1) return Status::InvalidArgument("the lease must be at least 1 s");
  if (std::find(options.sites.begin(), options.sites.end(), options.site) == options.sites.end()) {
    options.sites.push_back(options.site);
  }
  replica::EtcdOptions eopts;
  eopts.endpoints = options.etcd_endpoints;
  eopts.call_timeout = options.etcd_timeout;
  auto etcd = replica::EtcdClient::Connect(eopts);
  if (!etcd.ok()) return etcd.status();
  std::unique_ptr<CoreReplica> r(new CoreReplica(std::move(options), std::move(keys), clock, log));
  r->etcd_ = std::move(*etcd);
  r->leadership_ = std::make_unique<replica::Leadership>(
      r->etcd_.get(), clock,
      replica::LeadershipOptions{"/ipn/leader", r->options_.site, r->options_.lease_ttl_s});
  r->keeper_ = std::thread([raw = r.get()] { raw->KeepLease(); });
  return r;
}

CoreReplica::~CoreReplica() {
  {
    std::lock_guard<std::mutex> lock(keeper_mu_);
    stopping_ = true;
  }
  keeper_cv_.notify_all();
  if (keeper_.joinable()) keeper_.join();
}

void CoreReplica::KeepLease() {
  const auto every = std::chrono::milliseconds(options_.lease_ttl_s * 1000 / 3);
  std::unique_lock<std::mutex> lock(keeper_mu_);
  while (!keeper_cv_.wait_for(lock, every, [this] { return stopping_; })) {
    lock.unlock();
    // A lease gone is seen by Maintain (state() turns kFollowing); one that could not be
    // renewed in time, by its estimate running out (kUnsure).
    if (leadership_->lease() != 0) (void)leadership_->Renew();
    lock.lock();
  }
}

Status CoreReplica::Attach(records::RecordStore* store, symbol::SymbolService* symbols) {
  replica::ReplicatorOptions o;
  o.site = options_.site;
  o.issuance_sink = [symbols](const v1::Issuance& i) {
    if (i.linkage_symbol().size() != symbol::LinkageSymbol::kSize) {
      return Status::Corruption("an issuance without a 32-byte linkage symbol");
    }
    std::span<const uint8_t, symbol::LinkageSymbol::kSize> linkage(
        reinterpret_cast<const uint8_t*>(i.linkage_symbol().data()), symbol::LinkageSymbol::kSize);
    return symbols->ApplyIssuance(linkage, i.agency(), i.time_unix_us());
  };
  for (const auto& [version, key] : keys_) o.keys.emplace_back(version, key.Clone());
  auto r = replica::RecordReplicator::Create(etcd_.get(), store, std::move(o));
  if (!r.ok()) return r.status();
  replicator_ = std::move(*r);
  return Status::Ok();
}

Status CoreReplica::CheckPolicy(uint64_t mine) {
  Result<std::optional<replica::KeyValue>> kv = etcd_->Get(kPolicyKey);
  if (!kv.ok()) return kv.status();
  if (!kv->has_value()) return Status::Ok();
  std::optional<uint64_t> parsed = replica::ParseDecimal((*kv)->value);
  if (!parsed) return Status::Corruption("bad value under " + std::string(kPolicyKey));
  const uint64_t newest = *parsed;
  if (mine >= newest) return Status::Ok();
  return Status::FailedPrecondition("this site's policy bundle is version " + std::to_string(mine) +
                                    " but version " + std::to_string(newest) +
                                    " was served before: load the newest bundle here (SIGHUP) "
                                    "before this site may lead");
}

Status CoreReplica::PublishPolicy(uint64_t version) {
  const replica::Fence fence = leadership_->fence();
  if (fence.revision == 0) return Status::FailedPrecondition("not the leader");
  Result<std::optional<replica::KeyValue>> kv = etcd_->Get(kPolicyKey);
  if (!kv.ok()) return kv.status();
  // Fenced, and only upwards: the key changes only if it still holds what was read.
  std::vector<replica::Compare> compares = {
      {fence.key, replica::Compare::Target::kCreateRevision, fence.revision, ""}};
  if (kv->has_value()) {
    compares.push_back(
        {kPolicyKey, replica::Compare::Target::kModRevision, (*kv)->mod_revision, ""});
  } else {
    compares.push_back({kPolicyKey, replica::Compare::Target::kCreateRevision, 0, ""});
  }
  // A newer bundle was served meanwhile (another leader reloaded between this site's
  // check and its campaign): this site must not lead with the older one.
  IPN_RETURN_IF_ERROR(CheckPolicy(version));
  Result<replica::TxnResult> txn =
      etcd_->Txn(compares, {{kPolicyKey, std::to_string(version), 0}}, {});
  if (!txn.ok()) return txn.status();
  return txn->succeeded ? Status::Ok()
                        : Status::FailedPrecondition("the policy version changed meanwhile");
}

Result<bool> CoreReplica::FollowStep(uint64_t policy_version) {
  if (!replicator_) return Status::FailedPrecondition("no record store attached");
  Result<uint64_t> applied = replicator_->CatchUp();
  if (!applied.ok()) return applied.status();
  // At most once a second: each report is an fdatasync here and a write on every etcd
  // member, and the disk is the leader's commits' too.
  const int64_t now = clock_->NowMicros();
  if (*applied > 0 && now >= next_publish_us_) {
    next_publish_us_ = now + kTrimEveryUs;
    (void)replicator_->PublishApplied();
  }
  if (!leadership_->Leading()) IPN_RETURN_IF_ERROR(CheckPolicy(policy_version));
  Result<bool> led = leadership_->Campaign();
  if (!led.ok() || !*led) return led;
  Status prepared = replicator_->PrepareToLead();
  if (prepared.ok()) prepared = PublishPolicy(policy_version);
  if (!prepared.ok()) {
    (void)leadership_->Resign();  // another site may lead instead of this stuck one
    return prepared;
  }
  next_trim_us_ = clock_->NowMicros() + kTrimEveryUs;
  log_->Info("replica_leading", {{"site", options_.site}, {"applied", replicator_->applied()}});
  return true;
}

Status CoreReplica::Maintain() {
  switch (leadership_->state()) {
    case replica::Leadership::State::kFollowing:
      return Status::FailedPrecondition("the leader lease is gone: leadership lost");
    case replica::Leadership::State::kUnsure:
      return Status::Unavailable("the leader lease could not be renewed (no etcd quorum)");
    case replica::Leadership::State::kLeading: break;
  }
  // A committed batch this site's store has not taken yet (its append failed after the
  // release): taken now, or the store's failure is reported, not served around.
  IPN_RETURN_IF_ERROR(replicator_->ApplyCommitted());
  const int64_t now = clock_->NowMicros();
  if (now >= next_trim_us_) {
    next_trim_us_ = now + kTrimEveryUs;
    if (replicator_->PublishApplied().ok()) (void)replicator_->Trim(options_.sites);
  }
  return Status::Ok();
}

Result<bool> CoreReplica::Reclaim(uint64_t policy_version) {
  if (!replicator_) return Status::FailedPrecondition("no record store attached");
  if (!leadership_->Leading()) IPN_RETURN_IF_ERROR(CheckPolicy(policy_version));
  Result<bool> led = leadership_->Campaign();
  if (!led.ok() || !*led) return led;
  IPN_RETURN_IF_ERROR(replicator_->PrepareToLead());
  return true;
}

Status CoreReplica::Commit(std::vector<records::Record>& records) {
  if (!replicator_) return Status::FailedPrecondition("no record store attached");
  const int64_t now = clock_->NowMicros();
  for (records::Record& r : records) {
    if (r.time_unix_us == 0) r.time_unix_us = now;
  }
  return replicator_->Commit(leadership_->fence(), records);
}

Status CoreReplica::ApplyCommitted() {
  return replicator_ ? replicator_->ApplyCommitted() : Status::Ok();
}

Status CoreReplica::CommitIssuances(const std::vector<v1::Issuance>& issuances) {
  if (!replicator_) return Status::FailedPrecondition("no record store attached");
  return replicator_->CommitIssuances(leadership_->fence(), issuances);
}

Status CoreReplica::Resign() {
  return leadership_->Resign();
}

}  // namespace ipn::core
