// Leadership: campaign by create-if-absent under a lease, renew, resign.
#include "replica/leadership.h"

#include <utility>

namespace ipn::replica {

Leadership::Leadership(EtcdClient* etcd, const Clock* clock, LeadershipOptions options)
    : etcd_(etcd), clock_(clock), options_(std::move(options)) {}

Result<bool> Leadership::Campaign() {
  if (leading_) {
    if (Leading()) return true;
    // This core's estimate ran out: etcd says whether the lease still stands.
    Status renewed = Renew();
    if (renewed.ok()) return true;
    if (renewed.code() != Status::Code::kFailedPrecondition) return renewed;
    // The lease is gone (Renew forgot it): campaign afresh.
  }
  if (lease_ == 0) {
    const int64_t sent = clock_->NowMicros();
    Result<int64_t> lease = etcd_->LeaseGrant(options_.ttl_s);
    if (!lease.ok()) return lease.status();
    lease_ = *lease;
    // The lease runs from when etcd granted it, which is after `sent`: counting from
    // `sent` keeps this core's estimate inside the real lease.
    valid_until_us_ = sent + options_.ttl_s * 1'000'000;
  }
  Result<TxnResult> txn =
      etcd_->Txn({Compare{options_.key, Compare::Target::kCreateRevision, 0, ""}},
                 {PutOp{options_.key, options_.id, lease_}}, {options_.key});
  if (!txn.ok()) {
    // The lease expired between attempts: the next attempt takes a new one.
    if (txn.status().code() == Status::Code::kNotFound) lease_ = 0;
    return txn.status();
  }
  if (txn->succeeded) {
    revision_ = txn->revision;  // the put's revision is the key's create revision
    leading_ = true;
    leader_ = options_.id;
    return true;
  }
  if (!txn->reads.empty()) {
    const KeyValue& held = txn->reads.front();
    // Our own key, from an attempt whose answer was lost (a member died mid-call).
    if (held.value == options_.id && held.lease == lease_) {
      revision_ = held.create_revision;
      leading_ = true;
      leader_ = options_.id;
      return true;
    }
    leader_ = held.value;
  }
  return false;
}

Status Leadership::Renew() {
  if (lease_ == 0) return Status::FailedPrecondition("no lease to renew: campaign first");
  const int64_t sent = clock_->NowMicros();
  Result<int64_t> ttl = etcd_->LeaseKeepAlive(lease_);
  if (!ttl.ok()) return ttl.status();  // Leading() turns false when the estimate runs out
  if (*ttl == 0) {
    Lose();
    return Status::FailedPrecondition("the leader lease expired: leadership lost");
  }
  valid_until_us_ = sent + *ttl * 1'000'000;
  return Status::Ok();
}

Status Leadership::Resign() {
  if (lease_ == 0) return Status::Ok();
  Status s = etcd_->LeaseRevoke(lease_);
  Lose();
  return s;
}

bool Leadership::Leading() const {
  return leading_ && clock_->NowMicros() < valid_until_us_;
}

void Leadership::Lose() {
  leading_ = false;
  revision_ = 0;
  lease_ = 0;
  valid_until_us_ = 0;
}

}  // namespace ipn::replica
