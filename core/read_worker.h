// ReadWorker: serves record reads — the commission's pulls, tree heads and statistics, the
// portal's person histories — on a thread of its own, so that a pull of a million records
// never stalls the inquiry loop (before, each page of up to 1,000 records with proofs was
// built on it). A read runs RecordAccess against a CollectingEnv; the loop takes finished
// reads and applies what they produced in order — audit records first, then the reply,
// which leaves only once its audit record is durable, as before. One read at a time, in
// arrival order; at most limits::kMaxQueuedReads wait.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/logger.h"
#include "common/status.h"
#include "core/core_env.h"
#include "core/record_access.h"
#include "ipn/v1/wire.pb.h"

namespace ipn::core {

// A CoreEnv that only collects: the records a read adds and the messages it sends.
class CollectingEnv : public CoreEnv {
 public:
  explicit CollectingEnv(const Clock* clock) : clock_(clock) {}
  int64_t NowMicros() const override { return clock_->NowMicros(); }
  void AddRecord(records::Record record) override { records.push_back(std::move(record)); }
  void SendAfterCommit(std::string agency, v1::Envelope envelope) override {
    messages.emplace_back(std::move(agency), std::move(envelope));
  }
  Status SendNow(std::string_view, const v1::Envelope&) override {
    return Status::Internal("a read sends nothing at once");
  }
  std::string NewExchangeId(std::string_view, std::string_view) override { return ""; }
  bool RequestIdRecorded(std::string_view, std::string_view) override { return false; }

  std::vector<records::Record> records;
  std::vector<std::pair<std::string, v1::Envelope>> messages;

 private:
  const Clock* clock_;
};

class ReadWorker {
 public:
  // What one read produced, for the loop to apply.
  struct Output {
    std::vector<records::Record> records;
    std::vector<std::pair<std::string, v1::Envelope>> messages;
  };

  ReadWorker(records::RecordStore* store, const symbol::SymbolService* symbols,
             const policy::PolicyStore* policy, const Clock* clock, Logger* log);
  ~ReadWorker();  // finishes the read under way, drops the queue
  Status Start();
  // Finishes the read under way and stops; later Submits are refused. Idempotent.
  void Stop();

  // Queues a RecordQuery, TreeHeadRequest or StatsQuery from `asker`. ResourceExhausted
  // when limits::kMaxQueuedReads wait already.
  Status Submit(std::string asker, v1::Envelope envelope);
  // Readable (an eventfd) when finished reads wait.
  int wake_fd() const { return wake_fd_; }
  std::vector<Output> Take();
  size_t queued() const;

 private:
  void Loop();

  CollectingEnv env_;
  RecordAccess access_;
  int wake_fd_ = -1;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::deque<std::pair<std::string, v1::Envelope>> queue_;
  std::vector<Output> done_;
  std::thread thread_;
};

}  // namespace ipn::core
