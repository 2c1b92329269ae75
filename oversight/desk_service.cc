// The desk's work behind its page (oversight/desk_service.h).
#include "oversight/desk_service.h"

#include <chrono>

namespace ipn::oversight {
namespace {

constexpr int64_t kDayUs = 86'400'000'000LL;
constexpr size_t kReadChunk = 10'000;

}  // namespace

std::map<std::string, OfficeHours> DeclaredHours(const policy::Policy& policy) {
  std::map<std::string, OfficeHours> hours;
  for (const policy::Agency& a : policy.agencies()) {
    if (a.hours.empty()) continue;
    Result<OfficeHours> h = ParseOfficeHours(a.hours);
    if (h.ok()) hours[a.code] = *h;
  }
  return hours;
}

Result<PullRound> DeskService::PullNow() {
  std::lock_guard pull(pull_mu_);
  const int64_t now = o_.clock->NowMicros();
  DeskPullOptions po;
  po.page_size = o_.page_size;
  Result<PullRound> round = PullOnce(*o_.source, *o_.store, now, po);
  Status rules = Status::Ok();
  if (round.ok() && round->added > 0) rules = RerunRules();
  std::lock_guard lock(mu_);
  last_ = LastPull{now, round.ok() ? round->added : 0, round.ok() && rules.ok(),
                   !round.ok() ? round.status().ToString()
                               : (rules.ok() ? "" : "anomaly rules: " + rules.ToString())};
  if (round.ok() && !rules.ok()) return rules;
  return round;
}

std::optional<LastPull> DeskService::last_pull() const {
  std::lock_guard lock(mu_);
  return last_;
}

Result<uint64_t> DeskService::FirstAtOrAfter(int64_t t) const {
  uint64_t lo = 0, hi = o_.store->size();
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    const uint64_t seq[] = {mid};
    Result<std::vector<records::Record>> r = o_.store->Records(seq);
    if (!r.ok()) return r.status();
    if ((*r)[0].time_unix_us < t) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

Status DeskService::RerunRules() {
  const uint64_t size = o_.store->size();
  if (size == 0) return Status::Ok();
  const uint64_t last_seq[] = {size - 1};
  Result<std::vector<records::Record>> last = o_.store->Records(last_seq);
  if (!last.ok()) return last.status();
  Result<uint64_t> begin = FirstAtOrAfter((*last)[0].time_unix_us - o_.anomaly_lookback_us);
  if (!begin.ok()) return begin.status();
  std::vector<records::Record> window;
  for (uint64_t at = *begin; at < size;) {
    Result<std::vector<records::Record>> chunk = o_.store->Range(at, size, kReadChunk);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    at = chunk->back().sequence + 1;
    for (records::Record& r : *chunk) window.push_back(std::move(r));
  }
  const std::vector<Anomaly> found = FindAnomalies(window, o_.hours, o_.thresholds);
  Result<size_t> merged = o_.cases->Merge(found, o_.clock->NowMicros());
  return merged.ok() ? Status::Ok() : merged.status();
}

Result<FlagDetail> DeskService::Flag(const std::string& id, size_t limit) const {
  Result<DeskCase> flag = o_.cases->Get(id);
  if (!flag.ok()) return flag.status();
  FlagDetail d;
  d.flag = std::move(*flag);
  const std::optional<records::SignedTreeHead> head = o_.store->head();
  if (!head) return Status::FailedPrecondition("the desk has no verified head yet");
  d.head = *head;
  std::vector<uint64_t> seqs = d.flag.anomaly.sequences;
  if (seqs.size() > limit) {
    seqs.resize(limit);
    d.truncated = true;
  }
  Result<std::vector<records::Record>> recs = o_.store->Records(seqs);
  if (!recs.ok()) return recs.status();
  d.records = std::move(*recs);
  for (const records::Record& r : d.records) {
    Result<std::vector<records::Hash>> proof =
        o_.store->InclusionProof(r.sequence, head->tree_size);
    if (!proof.ok()) return proof.status();
    d.proofs.push_back(std::move(*proof));
  }
  return d;
}

Result<DeskFees> DeskService::Fees(const std::string& quarter_name) const {
  if (!o_.tariff) return Status::FailedPrecondition("the desk was started without a tariff");
  Result<Quarter> quarter = ParseQuarter(quarter_name);
  if (!quarter.ok()) return quarter.status();
  const std::optional<records::SignedTreeHead> head = o_.store->head();
  // From a day before the quarter (an exchange sent again after a failover is charged
  // once, at its first `provided`: docs/oversight.md) to a day after it (clock steps).
  Result<uint64_t> begin = FirstAtOrAfter(quarter->from_unix_us - kDayUs);
  if (!begin.ok()) return begin.status();
  Result<uint64_t> end = FirstAtOrAfter(quarter->to_unix_us + kDayUs);
  if (!end.ok()) return end.status();
  std::vector<records::Record> records;
  for (uint64_t at = *begin; at < *end;) {
    Result<std::vector<records::Record>> chunk = o_.store->Range(at, *end, kReadChunk);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    at = chunk->back().sequence + 1;
    for (records::Record& r : *chunk) records.push_back(std::move(r));
  }
  Result<FeeStatement> s = ComputeFees(records, *o_.tariff, *quarter);
  if (!s.ok()) return s.status();
  DeskFees fees;
  fees.statement = std::move(*s);
  if (head) {
    fees.statement.head_tree_size = head->tree_size;
    fees.statement.head_root = head->root_hash;
    fees.complete = head->timestamp_us >= quarter->to_unix_us;
  }
  return fees;
}

void DeskService::StartTimer(int64_t interval_us) {
  StopTimer();
  {
    std::lock_guard lock(timer_mu_);
    stopping_ = false;
  }
  timer_ = std::thread([this, interval_us] {
    std::unique_lock lock(timer_mu_);
    while (!stopping_) {
      lock.unlock();
      (void)PullNow();  // the outcome is in last_pull(); a finding is in the store
      lock.lock();
      timer_cv_.wait_for(lock, std::chrono::microseconds(interval_us),
                         [this] { return stopping_; });
    }
  });
}

void DeskService::StopTimer() {
  {
    std::lock_guard lock(timer_mu_);
    stopping_ = true;
  }
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
}

}  // namespace ipn::oversight
