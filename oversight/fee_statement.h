// FeeStatement: the quarterly per-exchange fee statement (情報提供手数料, billed per
// quarter: seed 000 §3) computed from the provision records alone, so that anyone holding
// a verified pull of the quarter and the signed tariff gets the same figures.
//
// Chargeable (docs/oversight.md, "Fee statements"): an exchange whose provider answered —
// a `provided` record — charged to the inquiring agency, under the business and item of
// that record, in the JST calendar quarter of the record's time, once per exchange (the
// inquirer's agency code and request id): only the exchange's first `provided` record in
// the records given counts, so one sent again after a failover is not charged twice, even
// across a quarter's end — which is why a pull for a statement should start a little
// before the quarter (a day is far more than any exchange's deadline). Refused, not held, failed
// and timed-out exchanges, and operator actions, are never charged.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "oversight/pulled_set.h"
#include "oversight/tariff.h"
#include "records/record.h"
#include "records/tree_head.h"

namespace ipn::oversight {

// A JST calendar quarter: "2026Q3" is 2026-07-01 00:00 JST up to 2026-10-01 00:00 JST.
struct Quarter {
  std::string name;  // "2026Q3"
  int64_t from_unix_us = 0, to_unix_us = 0;
};
// "YYYYQn" or "YYYY-Qn", n in 1…4.
Result<Quarter> ParseQuarter(std::string_view text);

struct FeeLine {
  std::string inquirer, business, item;
  uint64_t exchanges = 0;
  int64_t sen_per_exchange = 0;
  int64_t amount_sen = 0;
};

struct FeeStatement {
  Quarter quarter;
  uint64_t tariff_version = 0;
  std::string tariff_effective_from;
  std::array<uint8_t, 32> tariff_digest{};
  uint64_t head_tree_size = 0;  // the verified head the records were proven against
  records::Hash head_root{};
  std::vector<FeeLine> lines;  // ordered by inquirer, business, item
  std::map<std::string, int64_t> inquirer_total_sen;
  uint64_t chargeable_exchanges = 0;
  int64_t total_sen = 0;
};

// The statement from records already trusted (no head fields filled). The tariff must be
// in effect from the quarter's first day: FailedPrecondition otherwise.
Result<FeeStatement> ComputeFees(std::span<const records::Record> records, const Tariff& tariff,
                                 const Quarter& quarter);

// The statement from a pull, after checking it: the pull must hold every agency's records
// and cover the whole quarter (InvalidArgument otherwise), and VerifyPulledSet against the
// core's records key must find nothing (Corruption naming the findings otherwise).
Result<FeeStatement> FeesFromPull(const PulledSet& pull, const records::PublicKey& records_key,
                                  const Tariff& tariff, const Quarter& quarter);

// CSV: a header, one row per line, then one "(total)" row per inquirer and an "(all)" row.
std::string FeeStatementCsv(const FeeStatement& statement);

}  // namespace ipn::oversight
