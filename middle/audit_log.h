// AuditLog: each tenant's own record of what its staff did and were refused at the
// middle server — log-ins, registrations, inquiries, account changes — sealed under the
// tenant's key (MiddleStore), in order, readable by the tenant's admins only. The
// platform's operators' actions go to the `_platform` tenant's log. Entries name persons
// by the tenant's internal number at most (never a symbol, never content).
//
// Tamper-evident: the entries are the leaves of an RFC 9162 Merkle tree (the records
// library's, as the provision log's), leaf n being entry n's exact text. Each page read
// carries the head (size, root); an admin who keeps a head can later check that the log
// still begins with exactly what it covered (AuditRoot over the first `size` entries),
// and that what it reads now is what the current head covers. A rewritten, dropped or
// reordered entry changes every root from it on.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/logger.h"
#include "common/status.h"
#include "middle/middle_store.h"
#include "records/merkle.h"

namespace ipn::middle {

struct AuditEntry {
  uint64_t seq = 0;
  int64_t at_unix_us = 0;
  std::string account;  // who (empty: not logged in)
  std::string action;   // login, register, import, delete, inquire, create_account, …
  std::string detail;
  bool allowed = true;  // false: refused, and why is in detail
  std::string raw;      // the exact text of the entry: the Merkle tree's leaf
};

struct AuditHead {
  uint64_t size = 0;
  std::string root;  // hex SHA-256 (RFC 9162 MTH)
};

// The head of a log whose entries' texts are `raw`, in order.
AuditHead AuditRoot(const std::vector<std::string>& raw);

// Durability: an entry is in the store's write-ahead log before Append returns (a killed
// platform keeps it); a background sync puts it on disk within kAuditSyncUs (a power loss
// may take the last ones; the core's provision records of those inquiries are synced
// either way). Syncing each entry would put a second fsync on every inquiry's path.
inline constexpr int64_t kAuditSyncUs = 20'000;

class AuditLog {
 public:
  AuditLog(MiddleStore* store, const Clock* clock);
  ~AuditLog();  // syncs what is left

  // Appends to `tenant`'s log (its seq and time are set here).
  Status Append(const std::string& tenant, AuditEntry entry);
  Result<std::vector<AuditEntry>> List(const std::string& tenant, uint64_t after_seq,
                                       size_t limit) const;
  Result<AuditHead> Head(const std::string& tenant);

 private:
  // The tenant's tree, read from the store once. Called with mu_ held.
  Result<records::CompactRange*> Tree(const std::string& tenant);

  void SyncLoop();

  MiddleStore* store_;
  const Clock* clock_;
  std::mutex mu_;
  std::map<std::string, records::CompactRange> trees_;  // tenant -> its log's tree
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool dirty_ = false;
  bool stop_ = false;
  std::thread syncer_;
};

// Appends to `log`; when the entry cannot be written, says so in `logger` (may be null)
// and returns false, so that the caller can refuse what it was about to do.
bool AuditOrLog(AuditLog& log, Logger* logger, const std::string& tenant,
                const std::string& account, const std::string& action, const std::string& detail,
                bool allowed);

}  // namespace ipn::middle
