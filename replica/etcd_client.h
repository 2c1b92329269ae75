// EtcdClient: what the core asks of etcd (DESIGN.md §8), over etcd's v3 gRPC API: keys
// read and written, compare-and-put transactions (the fence and create-if-absent), and
// leases. Every call has a deadline; a cluster without a quorum, or none reachable,
// answers Unavailable, never a hang. The generated etcd types stay inside the .cc, so
// callers see only this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ipn::replica {

struct EtcdOptions {
  // Client endpoints, "127.0.0.1:2379" each; any member serves (it forwards to etcd's own
  // leader), and the channel moves to another when one stops answering.
  std::vector<std::string> endpoints;
  // Each call's deadline. A write needs a quorum: without one it fails at the deadline.
  std::chrono::milliseconds call_timeout{3000};
  // Each attempt's deadline within it. A request on its way through etcd's leader when
  // that leader dies is dropped, and the member holding it answers only at its own
  // timeout (seconds); a new attempt after a new leader is elected succeeds instead.
  std::chrono::milliseconds attempt_timeout{700};
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

// One equality test of a transaction.
struct Compare {
  enum class Target { kCreateRevision, kModRevision, kValue };
  std::string key;
  Target target = Target::kCreateRevision;
  int64_t revision = 0;  // kCreateRevision, kModRevision (0: the key does not exist)
  std::string value;     // kValue
};

struct PutOp {
  std::string key;
  std::string value;
  int64_t lease = 0;  // 0: no lease
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;         // the store's revision after the transaction
  std::vector<KeyValue> reads;  // what `read_on_failure` found, when it failed
};

class EtcdClient {
 public:
  static Result<std::unique_ptr<EtcdClient>> Connect(const EtcdOptions& options);
  virtual ~EtcdClient() = default;

  // Returns the revision of the write.
  virtual Result<int64_t> Put(const std::string& key, const std::string& value, int64_t lease) = 0;
  // Keys in [key, range_end) (range_end empty: `key` alone), at most `limit` (0: all),
  // ascending by key unless `descending`. Linearizable: it needs a quorum too.
  virtual Result<std::vector<KeyValue>> Range(const std::string& key, const std::string& range_end,
                                              int64_t limit, bool descending) = 0;
  Result<std::optional<KeyValue>> Get(const std::string& key);
  // Deletes keys in [key, range_end); returns how many.
  virtual Result<int64_t> DeleteRange(const std::string& key, const std::string& range_end) = 0;
  // If every compare holds, applies `on_success`; otherwise reads the keys `read_on_failure`.
  virtual Result<TxnResult> Txn(const std::vector<Compare>& compares,
                                const std::vector<PutOp>& on_success,
                                const std::vector<std::string>& read_on_failure) = 0;

  // A lease of `ttl_s` seconds (etcd may raise it to its minimum); returns its id.
  virtual Result<int64_t> LeaseGrant(int64_t ttl_s) = 0;
  // Renews lease `id` once; returns the TTL granted, 0 when the lease is gone.
  virtual Result<int64_t> LeaseKeepAlive(int64_t id) = 0;
  virtual Status LeaseRevoke(int64_t id) = 0;
};

// The smallest key greater than every key starting with `prefix` (etcd's range_end for a
// prefix scan).
std::string PrefixEnd(const std::string& prefix);

// A number kept in etcd as decimal digits (log sequence numbers, applied positions, the
// policy floor): nullopt for anything else — empty, a sign, other characters, or more than
// 2^64 - 1.
std::optional<uint64_t> ParseDecimal(std::string_view text);

}  // namespace ipn::replica
