// AuditLog: each tenant's own record of what its staff did and were refused at the
// middle server — log-ins, registrations, inquiries, account changes — sealed under the
// tenant's key (MiddleStore), in order, readable by the tenant's admins only. The
// platform's operators' actions go to the `_platform` tenant's log. Entries name persons
// by the tenant's internal number at most (never a symbol, never content).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "middle/middle_store.h"

namespace ipn::middle {

struct AuditEntry {
  uint64_t seq = 0;
  int64_t at_unix_us = 0;
  std::string account;  // who (empty: not logged in)
  std::string action;   // login, register, import, delete, inquire, create_account, …
  std::string detail;
  bool allowed = true;  // false: refused, and why is in detail
};

class AuditLog {
 public:
  AuditLog(MiddleStore* store, const Clock* clock) : store_(store), clock_(clock) {}

  // Appends to `tenant`'s log (its seq and time are set here).
  Status Append(const std::string& tenant, AuditEntry entry);
  Result<std::vector<AuditEntry>> List(const std::string& tenant, uint64_t after_seq,
                                       size_t limit) const;

 private:
  MiddleStore* store_;
  const Clock* clock_;
  std::mutex mu_;
  std::map<std::string, uint64_t> last_;  // tenant -> last seq, read from the store once
};

}  // namespace ipn::middle
