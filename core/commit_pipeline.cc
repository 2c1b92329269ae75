// CommitPipeline: asynchronous, ordered release of messages behind durable records.
#include "core/commit_pipeline.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace ipn::core {

CommitPipeline::CommitPipeline(records::RecordStore* store, Histogram* commit_latency,
                               const Clock* clock)
    : store_(store), commit_latency_(commit_latency), clock_(clock) {}

CommitPipeline::~CommitPipeline() {
  (void)Drain();
  if (wake_fd_ >= 0) close(wake_fd_);
}

Status CommitPipeline::Init() {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Status::IoError("eventfd failed");
  return Status::Ok();
}

void CommitPipeline::Wake() {
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof(one));
  (void)n;  // the counter saturating only means the loop is already awake
}

void CommitPipeline::Fail(const Status& s) {
  std::lock_guard<std::mutex> lock(error_mu_);
  if (error_.ok()) error_ = s;
}

void CommitPipeline::Submit(std::vector<records::Record> records, Outbox outbox,
                            std::vector<int64_t> tags) {
  auto batch = std::make_unique<Batch>();
  batch->outbox = std::move(outbox);
  batch->tags = std::move(tags);
  batch->submitted_us = clock_->NowMicros();
  Batch* raw = batch.get();
  batches_.push_back(std::move(batch));
  if (committer_) {
    Status committed = committer_(records);
    commit_latency_->ObserveMicros(clock_->NowMicros() - raw->submitted_us);
    raw->inline_commit = true;
    if (!committed.ok()) {
      raw->failed.store(true);
      return Fail(committed);
    }
    raw->done.store(true);
    return;
  }
  if (batches_.size() == 1 && records.size() <= kMaxInlineRecords &&
      raw->submitted_us >= inline_paused_until_us_) {
    // Nothing ahead of it: if the store is idle too, commit here. The batch is then done
    // before Submit returns, and TakeDurable releases it like any other.
    Result<bool> now = store_->TryAppendNow(records);
    if (!now.ok()) {
      raw->failed.store(true);
      return Fail(now.status());
    }
    if (*now) {
      const int64_t took = clock_->NowMicros() - raw->submitted_us;
      commit_latency_->ObserveMicros(took);
      inline_sync_avg_us_ += (static_cast<double>(took) - inline_sync_avg_us_) / 8;
      if (inline_sync_avg_us_ > kMaxInlineSyncUs) {
        inline_paused_until_us_ = raw->submitted_us + took + kInlinePauseUs;
        inline_sync_avg_us_ = 0;  // judged afresh after the pause
      }
      raw->inline_commit = true;
      ++inline_commits_;
      raw->done.store(true);
      return;
    }
  }
  raw->remaining.store(records.size());
  for (auto& record : records) {
    store_->AppendAsync(std::move(record), [this, raw](Status s, uint64_t) {
      if (!s.ok()) {
        raw->failed.store(true);
        Fail(s);
      }
      if (raw->remaining.fetch_sub(1) == 1) {
        raw->done.store(true);
        Wake();
      }
    });
  }
}

Status CommitPipeline::TakeDurable(std::vector<Released>* released) {
  uint64_t counter = 0;
  while (read(wake_fd_, &counter, sizeof(counter)) > 0) {
  }
  // Durable batches first, even when a later one failed: their records are on disk, so
  // their messages are true.
  while (!batches_.empty() && batches_.front()->done.load() && !batches_.front()->failed.load()) {
    Batch& b = *batches_.front();
    if (!b.inline_commit) commit_latency_->ObserveMicros(clock_->NowMicros() - b.submitted_us);
    released->push_back(Released{std::move(b.outbox), std::move(b.tags)});
    batches_.pop_front();
  }
  std::lock_guard<std::mutex> lock(error_mu_);
  return error_;
}

std::vector<Outbox> CommitPipeline::TakeUnacknowledged() {
  std::vector<Outbox> out;
  // The batches stay (a store callback may still name one); only their messages go.
  for (auto& b : batches_) out.push_back(std::move(b->outbox));
  return out;
}

Status CommitPipeline::Drain() {
  while (!batches_.empty()) {
    {
      std::lock_guard<std::mutex> lock(error_mu_);
      if (!error_.ok()) return error_;
    }
    if (batches_.front()->done.load()) {
      batches_.pop_front();
      continue;
    }
    pollfd p{wake_fd_, POLLIN, 0};
    poll(&p, 1, 100);
    uint64_t counter = 0;
    while (read(wake_fd_, &counter, sizeof(counter)) > 0) {
    }
  }
  return Status::Ok();
}

}  // namespace ipn::core
