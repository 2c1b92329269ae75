// DeskCases: the desk's anomaly flags as cases an investigator works on (issue #17): each
// flag the rules raise (oversight/anomalies.h) becomes a case, open until someone puts it
// under review or closes it with a note. When the rules run again over newer records, a
// flag for the same rule, agency and window start is the same case: its numbers and
// records are refreshed and its status and note kept (a closed case that grew is opened again,
// its note saying so). Kept in one JSON file, replaced
// atomically at every change. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "oversight/anomalies.h"

namespace ipn::oversight {

inline constexpr size_t kMaxCases = 100'000;
inline constexpr size_t kMaxCaseSequences = 10'000;  // records kept per case (count says all)
inline constexpr size_t kMaxNoteBytes = 2'000;

enum class CaseStatus { kOpen, kUnderReview, kClosed };
const char* CaseStatusName(CaseStatus s);
std::optional<CaseStatus> ParseCaseStatus(std::string_view name);

struct DeskCase {
  std::string id;  // 16 hex digits: SHA-256 of rule, agency and window start
  Anomaly anomaly;
  CaseStatus status = CaseStatus::kOpen;
  std::string note, updated_by;
  int64_t updated_us = 0, first_seen_us = 0;
};

std::string CaseId(const Anomaly& a);

class DeskCases {
 public:
  static Result<std::unique_ptr<DeskCases>> Open(std::string path);

  // Adds the flags not seen before (open) and refreshes those seen; returns how many are
  // new. ResourceExhausted (nothing changed) past kMaxCases.
  Result<size_t> Merge(const std::vector<Anomaly>& found, int64_t now_us);
  // Newest window first; only `status` when given.
  std::vector<DeskCase> List(std::optional<CaseStatus> status) const;
  size_t Count(CaseStatus status) const;
  Result<DeskCase> Get(std::string_view id) const;
  // InvalidArgument: closing without a note, a note over kMaxNoteBytes. NotFound: no case.
  Result<DeskCase> SetStatus(std::string_view id, CaseStatus status, std::string_view note,
                             std::string_view who, int64_t now_us);

 private:
  explicit DeskCases(std::string path) : path_(std::move(path)) {}
  Status Load();
  Status SaveLocked() const;

  const std::string path_;
  mutable std::mutex mu_;
  std::map<std::string, DeskCase> cases_;
};

}  // namespace ipn::oversight
