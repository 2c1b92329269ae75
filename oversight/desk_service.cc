// The desk's work behind its page (oversight/desk_service.h).
#include "oversight/desk_service.h"

#include <algorithm>
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

Result<PullRound> DeskService::PullNow(bool wait) {
  std::unique_lock pull(pull_mu_, std::defer_lock);
  if (wait) {
    pull.lock();
  } else if (!pull.try_lock()) {
    return Status::FailedPrecondition("a pull is already running");
  }
  const int64_t now = o_.clock->NowMicros();
  const uint64_t before = o_.store->size();
  DeskPullOptions po;
  po.page_size = o_.page_size;
  if (o_.audit != nullptr) po.audit_head = o_.audit->Head();
  Result<PullRound> round = PullOnce(*o_.source, *o_.store, now, po);
  if (round.ok() && round->added > 0) rules_from_ = std::min(rules_from_.value_or(before), before);
  Status rules = Status::Ok();
  // Kept until the rules ran over them: a failed run is tried again at the next pull.
  if (rules_from_) {
    rules = RerunRules(*rules_from_);
    if (rules.ok()) rules_from_.reset();
  }
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

Result<uint64_t> DeskService::FirstAtOrAfter(int64_t t, uint64_t end) const {
  uint64_t lo = 0, hi = end;
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

Result<int64_t> DeskService::TimeOf(uint64_t sequence) const {
  const uint64_t seq[] = {sequence};
  Result<std::vector<records::Record>> r = o_.store->Records(seq);
  if (!r.ok()) return r.status();
  return (*r)[0].time_unix_us;
}

Status DeskService::RerunRules(uint64_t first_new) {
  const uint64_t size = o_.store->size();
  if (first_new >= size) return Status::Ok();
  Result<int64_t> t_new = TimeOf(first_new);
  if (!t_new.ok()) return t_new.status();
  Result<int64_t> t_last = TimeOf(size - 1);
  if (!t_last.ok()) return t_last.status();
  // A flag that starts this close after a window's cut may lack records before the cut (a
  // run, a day, a bucket cut in two): left to the run whose window holds it whole.
  const int64_t guard = std::max({kDayUs, o_.thresholds.volume_bucket_minutes * 60'000'000,
                                  o_.thresholds.refusal_window_minutes * 60'000'000,
                                  o_.thresholds.person_window_minutes * 60'000'000});
  // The new records in slices of the lookback, each read with the lookback before it: the
  // memory is two lookbacks' records, however many records a first pull brought.
  const int64_t slice = std::max<int64_t>(o_.anomaly_lookback_us, kDayUs);
  for (int64_t from = *t_new; from <= *t_last; from += slice) {
    Result<uint64_t> begin = FirstAtOrAfter(from - o_.anomaly_lookback_us, size);
    if (!begin.ok()) return begin.status();
    Result<uint64_t> end = FirstAtOrAfter(from + slice, size);
    if (!end.ok()) return end.status();
    std::vector<records::Record> window;
    for (uint64_t at = *begin; at < *end;) {
      Result<std::vector<records::Record>> chunk = o_.store->Range(at, *end, kReadChunk);
      if (!chunk.ok()) return chunk.status();
      if (chunk->empty()) break;
      at = chunk->back().sequence + 1;
      for (records::Record& r : *chunk) window.push_back(std::move(r));
    }
    if (window.empty()) continue;
    std::vector<Anomaly> found = FindAnomalies(window, o_.hours, o_.thresholds);
    if (*begin > 0) {
      const int64_t cut = window.front().time_unix_us;
      std::erase_if(found, [&](const Anomaly& a) { return a.from_unix_us < cut + guard; });
    }
    Result<size_t> merged = o_.cases->Merge(found, o_.clock->NowMicros());
    if (!merged.ok()) return merged.status();
  }
  return Status::Ok();
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
  // Up to the head's size only: a pull committing meanwhile adds nothing the statement's
  // head does not cover, so anyone holding that head gets the same statement.
  const uint64_t size = head ? head->tree_size : 0;
  Result<uint64_t> begin = FirstAtOrAfter(quarter->from_unix_us - kDayUs, size);
  if (!begin.ok()) return begin.status();
  Result<uint64_t> end = FirstAtOrAfter(quarter->to_unix_us + kDayUs, size);
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
    fees.complete = head->timestamp_us >= quarter->to_unix_us + kDayUs;
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
      try {
        (void)PullNow();  // the outcome is in last_pull(); a finding is in the store
      } catch (const std::exception& e) {  // memory, most likely: the next round tries again
        std::lock_guard last(mu_);
        last_ = LastPull{o_.clock->NowMicros(), 0, false, std::string("pull failed: ") + e.what()};
      }
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
