// CommitPipeline: makes the core's provision records durable without stalling the core's
// loop. Each Submit hands a batch of records to the record store's group commit
// (RecordStore::AppendAsync) together with the messages that must wait for them; once
// every record of a batch is durable the commit thread wakes the loop (an eventfd it
// polls), and TakeDurable releases the waiting messages, batch by batch, in order.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "ipn/v1/wire.pb.h"
#include "records/record_store.h"

namespace ipn::core {

// Messages to agency nodes, by routing id (agency code).
using Outbox = std::vector<std::pair<std::string, v1::Envelope>>;

class CommitPipeline {
 public:
  static constexpr size_t kMaxInlineRecords = 16;  // larger batches always use the pipeline
  static constexpr int64_t kMaxInlineSyncUs = 5'000;
  static constexpr int64_t kInlinePauseUs = 1'000'000;

  CommitPipeline(records::RecordStore* store, Histogram* commit_latency, const Clock* clock);

  // A replicated core commits each batch through etcd (CoreReplica::Commit) instead of
  // the store's own group commit: on the caller's thread, one etcd transaction per batch,
  // the batch done when it returns. While it waits, records keep arriving, so batches
  // grow under load. Set before the first Submit.
  using Committer = std::function<Status(std::vector<records::Record>&)>;
  void set_committer(Committer committer) { committer_ = std::move(committer); }
  ~CommitPipeline();
  CommitPipeline(const CommitPipeline&) = delete;
  CommitPipeline& operator=(const CommitPipeline&) = delete;

  Status Init();
  // Readable when some batch became durable (or failed); poll it beside the sockets.
  int wake_fd() const { return wake_fd_; }

  // `records` must not be empty. `tag` values come back with the released outbox.
  //
  // A small batch submitted while nothing is in flight is committed on the caller's
  // thread (RecordStore::TryAppendNow): at low load that saves the store's three thread
  // hand-offs and the wake-up back (e2e p50 1,549 -> 1,159 us, bench/RESULTS.md). The
  // caller then waits for one sync: that is the trade. Under load batches are large or
  // overlap and go through the store's pipeline, so the loop keeps reading while the disk
  // syncs; and when syncs on this thread average longer than kMaxInlineSyncUs (a slow
  // disk, not one slow sync: on a shared VM single syncs of several ms are common), the
  // pipeline is used for the next second whatever the load.
  void Submit(std::vector<records::Record> records, Outbox outbox, std::vector<int64_t> tags);

  struct Released {
    Outbox outbox;
    std::vector<int64_t> tags;
  };
  // Moves out, in submission order, the outboxes of batches now durable. A failed commit
  // is returned as an error, after the durable batches ahead of it are released (the
  // messages of the failed batch and of those behind it never are).
  Status TakeDurable(std::vector<Released>* released);

  size_t in_flight() const { return batches_.size(); }
  // After a failed commit: the outboxes of every batch not released, which will never be
  // (the caller tells their addressees that nothing was recorded).
  std::vector<Outbox> TakeUnacknowledged();
  // Batches committed on the caller's thread so far (see Submit).
  uint64_t inline_commits() const { return inline_commits_; }
  // Waits until every submitted batch is durable (or failed), for shutdown.
  Status Drain();

 private:
  struct Batch {
    Outbox outbox;
    std::vector<int64_t> tags;
    int64_t submitted_us = 0;
    std::atomic<size_t> remaining{0};
    std::atomic<bool> done{false};
    std::atomic<bool> failed{false};  // some record of it was not made durable
    bool inline_commit = false;       // committed in Submit (its latency observed there)
  };
  void Wake();
  void Fail(const Status& s);

  records::RecordStore* store_;
  Histogram* commit_latency_;
  const Clock* clock_;
  int wake_fd_ = -1;
  uint64_t inline_commits_ = 0;
  Committer committer_;
  int64_t inline_paused_until_us_ = 0;
  double inline_sync_avg_us_ = 0;  // moving average (1/8 weight) of inline commit times
  std::deque<std::unique_ptr<Batch>> batches_;
  std::mutex error_mu_;
  Status error_;
};

}  // namespace ipn::core
