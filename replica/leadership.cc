// Leadership: campaign by create-if-absent under a lease, renew, resign. Thread-safe: the
// state is read and written under a mutex, never held across an etcd call.
#include "replica/leadership.h"

#include <algorithm>
#include <utility>

namespace ipn::replica {

Leadership::Leadership(EtcdClient* etcd, const Clock* clock, LeadershipOptions options)
    : etcd_(etcd), clock_(clock), options_(std::move(options)) {}

Result<bool> Leadership::Campaign() {
  bool held = false;
  int64_t lease = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    held = leading_;
    lease = lease_;
  }
  if (held) {
    if (Leading()) return true;
    // This core's estimate ran out: etcd says whether the lease still stands.
    Status renewed = Renew();
    if (renewed.ok()) return true;
    if (renewed.code() != Status::Code::kFailedPrecondition) return renewed;
    lease = 0;  // the lease is gone (Renew forgot it): campaign afresh
  }
  if (lease == 0) {
    const int64_t sent = clock_->NowMicros();
    Result<int64_t> granted = etcd_->LeaseGrant(options_.ttl_s);
    if (!granted.ok()) return granted.status();
    lease = *granted;
    std::lock_guard<std::mutex> lock(mu_);
    lease_ = lease;
    // The lease runs from when etcd granted it, which is after `sent`: counting from
    // `sent` keeps this core's estimate inside the real lease.
    valid_until_us_ = sent + options_.ttl_s * 1'000'000;
  }
  Result<TxnResult> txn =
      etcd_->Txn({Compare{options_.key, Compare::Target::kCreateRevision, 0, ""}},
                 {PutOp{options_.key, options_.id, lease}}, {options_.key});
  std::lock_guard<std::mutex> lock(mu_);
  if (!txn.ok()) {
    // The lease expired between attempts: the next attempt takes a new one.
    if (txn.status().code() == Status::Code::kNotFound && lease_ == lease) lease_ = 0;
    return txn.status();
  }
  if (lease_ != lease) return false;  // resigned meanwhile
  if (txn->succeeded) {
    revision_ = txn->revision;  // the put's revision is the key's create revision
    leading_ = true;
    leader_ = options_.id;
    return true;
  }
  if (!txn->reads.empty()) {
    const KeyValue& kv = txn->reads.front();
    // Our own key, from an attempt whose answer was lost (a member died mid-call).
    if (kv.value == options_.id && kv.lease == lease) {
      revision_ = kv.create_revision;
      leading_ = true;
      leader_ = options_.id;
      return true;
    }
    leader_ = kv.value;
  }
  return false;
}

Status Leadership::Renew() {
  int64_t lease = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease = lease_;
  }
  if (lease == 0) return Status::FailedPrecondition("no lease to renew: campaign first");
  const int64_t sent = clock_->NowMicros();
  Result<int64_t> ttl = etcd_->LeaseKeepAlive(lease);
  std::lock_guard<std::mutex> lock(mu_);
  if (lease_ != lease) return Status::FailedPrecondition("the lease was given up meanwhile");
  if (!ttl.ok()) return ttl.status();  // Leading() turns false when the estimate runs out
  if (*ttl == 0) {
    LoseLocked();
    return Status::FailedPrecondition("the leader lease expired: leadership lost");
  }
  valid_until_us_ = std::max(valid_until_us_, sent + *ttl * 1'000'000);
  return Status::Ok();
}

Status Leadership::Resign() {
  int64_t lease = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease = lease_;
    LoseLocked();
  }
  if (lease == 0) return Status::Ok();
  return etcd_->LeaseRevoke(lease);
}

bool Leadership::Leading() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leading_ && clock_->NowMicros() < valid_until_us_;
}

Leadership::State Leadership::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!leading_) return State::kFollowing;
  return clock_->NowMicros() < valid_until_us_ ? State::kLeading : State::kUnsure;
}

Fence Leadership::fence() const {
  std::lock_guard<std::mutex> lock(mu_);
  return Fence{options_.key, leading_ ? revision_ : 0};
}

std::string Leadership::leader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leader_;
}

int64_t Leadership::lease() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lease_;
}

void Leadership::LoseLocked() {
  leading_ = false;
  revision_ = 0;
  lease_ = 0;
  valid_until_us_ = 0;
}

}  // namespace ipn::replica
