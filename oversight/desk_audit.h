// DeskAudit: the desk's own audit log — every view an investigator opens, every status
// they set, every log-in refused (issue #17: "every view audited"). Append-only JSON lines
// in one file, each synced before the view is answered, each chained to the one before by
// SHA-256 so that a line removed or changed shows (Verify):
//   {"seq":N,"at_us":T,"who":"name","action":"view","detail":"/api/…","prev":"hex","chain":"hex"}
// chain = SHA-256(prev chain bytes ‖ the line's JSON without "chain"); the first prev is 32
// zero bytes. The file is bounded (max_bytes): when full, Append refuses, and so the desk
// refuses every view (it never shows what it could not record). Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace ipn::oversight {

inline constexpr size_t kMaxAuditDetailBytes = 512;

struct AuditEntry {
  uint64_t seq = 0;
  int64_t at_us = 0;
  std::string who, action, detail, chain_hex;
};

class DeskAudit {
 public:
  // Opens (creating) the log at `path` and checks its chain: Corruption naming the line
  // that breaks it.
  static Result<std::unique_ptr<DeskAudit>> Open(const std::string& path, uint64_t max_bytes,
                                                 const Clock* clock);
  ~DeskAudit();

  // Appends and syncs one entry (detail cut to kMaxAuditDetailBytes, control characters
  // replaced). ResourceExhausted when the log is full.
  Status Append(std::string_view who, std::string_view action, std::string_view detail);
  // The newest entries, newest first (at most the last 1,000 are kept in memory).
  std::vector<AuditEntry> Recent(size_t limit) const;
  uint64_t entries() const;
  // The last entry's chain value (32 bytes; zeros before the first): what the desk's pulls
  // anchor in the core's log.
  std::string Head() const;

 private:
  DeskAudit(std::string path, uint64_t max_bytes, const Clock* clock)
      : path_(std::move(path)), max_bytes_(max_bytes), clock_(clock) {}
  Status Load();

  const std::string path_;
  const uint64_t max_bytes_;
  const Clock* clock_;
  mutable std::mutex mu_;
  int fd_ = -1;
  uint64_t bytes_ = 0, next_seq_ = 0;
  std::string chain_;  // 32 bytes: the last line's chain
  std::deque<AuditEntry> recent_;
};

}  // namespace ipn::oversight
