// Leadership: which core leads, decided by etcd (DESIGN.md §8). A core leads while it
// holds the leader key under its own lease; the key's create revision is the fence every
// commit of this core checks (ReplicatedLog::Append), so a core paused past its lease —
// whose key etcd deleted with the lease — can never append again, even if it still
// believes it leads. Leading() is only this core's own estimate, kept on the safe side
// (the lease counted from before the renewal was sent); the fence is the guarantee.
// Thread-safe, so that the lease can be kept alive by a thread of its own while the
// caller's thread waits on a commit (CoreReplica).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "replica/etcd_client.h"

namespace ipn::replica {

struct LeadershipOptions {
  std::string key = "/ipn/leader";
  std::string id;     // this core's name (its site), stored as the key's value
  int64_t ttl_s = 2;  // the lease; a failover takes about this long
};

// What a commit checks: the leader key still exists with this create revision.
struct Fence {
  std::string key;
  int64_t revision = 0;  // 0: no leadership (every append fails)
};

class Leadership {
 public:
  Leadership(EtcdClient* etcd, const Clock* clock, LeadershipOptions options);

  // One attempt to lead: true when this core now leads (or already did), false when
  // another holds the key (leader() names it). Unavailable without a quorum.
  Result<bool> Campaign();
  // Renews the lease. Returns FailedPrecondition once the lease or the key is gone:
  // leadership is lost for good and Campaign must start over.
  Status Renew();
  // Gives leadership up at once (revokes the lease, which deletes the key).
  Status Resign();

  bool Leading() const;
  // kLeading: leads, lease current; kUnsure: led, but the lease could not be renewed in
  // time (no quorum?); kFollowing: does not lead (never did, resigned, or the lease is gone).
  enum class State { kFollowing, kLeading, kUnsure };
  State state() const;
  Fence fence() const;
  // The leader last seen by Campaign (this core's id when it leads).
  std::string leader() const;
  int64_t lease() const;

 private:
  void LoseLocked();

  EtcdClient* etcd_;
  const Clock* clock_;
  LeadershipOptions options_;
  mutable std::mutex mu_;  // guards what follows; never held across an etcd call
  int64_t lease_ = 0;
  int64_t revision_ = 0;
  bool leading_ = false;
  int64_t valid_until_us_ = 0;  // local estimate of the lease's end
  std::string leader_;
};

}  // namespace ipn::replica
