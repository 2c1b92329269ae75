// RefusalLedger: refusals of an authenticated agency that have no person to be filed
// under — made before any symbol is opened (rate limit, duplicate request id, malformed
// or oversized message, a Hello or a resident code the agency may not send) — counted
// per (agency, reason) and recorded as one aggregate record per interval, with the
// count, the interval and the first and last request ids. A flooding agency then costs
// the disk one record per second per reason, not one per message, and the log one line.
// Every such refusal is still on record (DESIGN.md §7: every refused access logged as
// evidence); only its granularity is the interval.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/limits.h"
#include "records/record.h"

namespace ipn::core {

// The refusals of one agency for one reason within one interval.
struct RefusalTally {
  std::string agency;
  std::string reason;  // "RATE_LIMITED", "DUPLICATE_REQUEST", "MALFORMED", "HELLO_REFUSED", …
  uint64_t count = 0;
  int64_t first_us = 0, last_us = 0;
  std::string first_request_id, last_request_id;

  // An inquiry-refused record filed under no person: inquirer = the agency, request id =
  // the first one, outcome = "REASON count=N last=ID from_us=T to_us=T".
  records::Record ToRecord() const;
};

class RefusalLedger {
 public:
  explicit RefusalLedger(int64_t interval_us = limits::kRefusalIntervalUs)
      : interval_us_(interval_us) {}

  void Add(std::string_view agency, std::string_view reason, std::string_view request_id,
           int64_t now_us);
  // The tallies whose interval has ended (first + interval <= now), or every one when
  // `all` (at shutdown); they leave the ledger.
  std::vector<RefusalTally> TakeDue(int64_t now_us, bool all = false);
  // When the earliest open tally is due.
  std::optional<int64_t> NextDue() const;
  size_t open() const { return open_.size(); }

 private:
  int64_t interval_us_;
  // Bounded: agencies (authenticated, from the directory) x reasons (a fixed set).
  // Keyed by agency | NUL | reason (no agency code holds NUL).
  std::map<std::string, RefusalTally> open_;
};

}  // namespace ipn::core
