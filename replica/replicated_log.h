// ReplicatedLog: the window of commit batches in etcd (DESIGN.md §8). The leader appends
// batch after batch, each under the next sequence number and only while its fence holds;
// an append that returns has been committed by a majority of etcd's members, which is
// the point where a record counts as acknowledged. Every replica reads the batches in
// sequence order and applies them to its own record store; batches every replica has
// applied are trimmed, so etcd holds a bounded window, never the archive.
//
// Keys: prefix + the sequence number as 20 decimal digits, so key order is sequence order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "replica/etcd_client.h"
#include "replica/leadership.h"

namespace ipn::replica {

struct LogEntry {
  uint64_t seq = 0;
  std::string bytes;
  int64_t revision = 0;  // etcd's revision of the append
};

class ReplicatedLog {
 public:
  explicit ReplicatedLog(EtcdClient* etcd, std::string prefix = "/ipn/log/");

  // Appends `bytes` as entry `seq` if `fence` still holds and `seq` is free; returns the
  // append's revision. FailedPrecondition: the fence no longer holds (leadership lost; the
  // entry was not written). AlreadyExists: the fence holds but `seq` holds other bytes.
  // Unavailable: no quorum — the entry may or may not be in; repeating the same append tells which.
  Result<int64_t> Append(const Fence& fence, uint64_t seq, std::string_view bytes);

  // Up to `limit` entries from `from_seq` on, in order.
  Result<std::vector<LogEntry>> Read(uint64_t from_seq, int64_t limit);
  // The highest sequence number in the window, if any.
  Result<std::optional<uint64_t>> Last();
  // Removes every entry below `seq` (all replicas applied them); returns how many.
  Result<int64_t> Trim(uint64_t seq);

  std::string KeyOf(uint64_t seq) const;
  // The sequence number of `key`, if it is one of this log's keys.
  std::optional<uint64_t> SeqOf(std::string_view key) const;

 private:
  EtcdClient* etcd_;
  std::string prefix_;
};

}  // namespace ipn::replica
