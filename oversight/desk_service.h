// DeskService: the commission's desk behind its web page (issue #17) — everything the page
// asks, with no HTTP in it (oversight/desk_server.h serves it). It brings the verified copy
// up to date (DeskPuller; one pull at a time, on a timer or when asked), re-runs the
// anomaly rules over the newest records after every pull that added some and keeps what
// they raise as cases, and answers the drill-down (a flag's records, each with its
// inclusion proof against the desk's newest head) and the quarter's fee statement, both
// from the verified copy alone.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "oversight/anomalies.h"
#include "oversight/desk_audit.h"
#include "oversight/desk_cases.h"
#include "oversight/desk_puller.h"
#include "oversight/desk_store.h"
#include "oversight/fee_statement.h"
#include "oversight/tariff.h"
#include "policy/policy.h"

namespace ipn::oversight {

// Every agency's declared office hours (JST) from the policy (agencies without any, or with
// hours that do not parse, are left out: the off_hours rule skips them).
std::map<std::string, OfficeHours> DeclaredHours(const policy::Policy& policy);

struct DeskServiceOptions {
  DeskStore* store = nullptr;
  RecordSource* source = nullptr;
  DeskCases* cases = nullptr;
  // The desk's audit log, whose head each pull anchors in the core's log (optional).
  const DeskAudit* audit = nullptr;
  const Clock* clock = nullptr;
  AnomalyThresholds thresholds;
  std::map<std::string, OfficeHours> hours;  // agency code → declared office hours
  // The rules re-run over the records of this long before the newest one (the longest
  // rule window, with room for the volume rule's baseline).
  int64_t anomaly_lookback_us = 8 * 86'400'000'000LL;
  std::optional<Tariff> tariff;  // none: no fee statements
  uint32_t page_size = 1000;
};

struct LastPull {
  int64_t at_us = 0;
  uint64_t added = 0;
  bool ok = true;
  std::string error;
};

struct FlagDetail {
  DeskCase flag;
  records::SignedTreeHead head;  // every proof leads to its root
  std::vector<records::Record> records;
  std::vector<std::vector<records::Hash>> proofs;  // one per record
  bool truncated = false;
};

struct DeskFees {
  FeeStatement statement;
  // The desk's newest head is from after the quarter's end: every record of it is in.
  bool complete = false;
};

class DeskService {
 public:
  explicit DeskService(DeskServiceOptions options) : o_(std::move(options)) {}
  ~DeskService() { StopTimer(); }

  // One incremental pull, then the rules over the records it brought (and any a failed
  // run of the rules left). With `wait` false, FailedPrecondition when a pull is running.
  Result<PullRound> PullNow(bool wait = true);
  std::optional<LastPull> last_pull() const;

  // A flag's records (at most `limit`) with their proofs.
  Result<FlagDetail> Flag(const std::string& id, size_t limit) const;
  // FailedPrecondition without a tariff; InvalidArgument for a bad quarter.
  Result<DeskFees> Fees(const std::string& quarter) const;

  // Pulls every `interval_us` on a thread of its own until StopTimer (or destruction).
  void StartTimer(int64_t interval_us);
  void StopTimer();

  DeskStore& store() const { return *o_.store; }
  DeskCases& cases() const { return *o_.cases; }

 private:
  // The first sequence below `end` whose record is at or after `t` (records are in time
  // order but for small steps back across a failover: callers keep a margin).
  Result<uint64_t> FirstAtOrAfter(int64_t t, uint64_t end) const;
  Result<int64_t> TimeOf(uint64_t sequence) const;
  // The rules over the records from `first_new` on, each read with the lookback before it.
  Status RerunRules(uint64_t first_new);

  const DeskServiceOptions o_;
  std::mutex pull_mu_;  // one pull at a time
  mutable std::mutex mu_;
  std::optional<LastPull> last_;
  std::optional<uint64_t> rules_from_;  // under pull_mu_: the first record the rules owe
  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  bool stopping_ = false;
  std::thread timer_;
};

}  // namespace ipn::oversight
