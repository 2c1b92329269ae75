// The append pipeline: group commit in three stages, each a thread.
//   prepare  takes every waiting request, assigns sequences, seals the records, hashes them
//            into the Merkle tree and builds one RocksDB WriteBatch;
//   write    writes it (WAL append and memtables, no sync) while the next one prepares;
//   sync     syncs the WAL (fdatasync) once for everything written since its last sync,
//            then acknowledges those records and publishes the new tree.
// A record is acknowledged, counted in Size() and visible to queries only after the sync
// that covers it. Durable throughput is then the sync rate times the records written
// during one sync, not one record per sync; and the CPU work of writing overlaps the
// disk's sync. Also here: Append, AppendBatch and AppendAsync, and the background thread
// (tree heads at a cadence, periodic purge).
#include <sodium.h>

#include <algorithm>
#include <future>

#include "common/encoding.h"
#include "records/record_codec.h"
#include "records/store_impl.h"

namespace ipn::records {
namespace {
// Pending records beyond which AppendAsync refuses (ResourceExhausted) instead of queueing.
constexpr size_t kMaxQueuedBatches = 64;
}  // namespace

// The public entry points: each call becomes one AppendRequest.

Status RecordStore::Append(Record& record) {
  std::vector<Record> one;
  one.push_back(std::move(record));
  Status s = AppendBatch(one);
  record = std::move(one[0]);
  return s;
}

Status RecordStore::AppendBatch(std::vector<Record>& records) {
  if (records.empty()) return Status::Ok();
  for (size_t i = 0; i < records.size(); ++i) {
    Status s = ValidateRecord(records[i]);
    if (!s.ok()) {
      return records.size() == 1 ? s
                                 : s.WithContext("record " + std::to_string(i) + " of the batch");
    }
  }
  std::promise<Status> promise;
  std::future<Status> future = promise.get_future();
  AppendRequest request;
  request.records = std::move(records);
  request.done = [&promise, &records](const Status& s, std::vector<Record>& committed) {
    records = std::move(committed);
    promise.set_value(s);
  };
  impl_->Submit(std::move(request));
  return future.get();
}

void RecordStore::AppendAsync(Record record, std::function<void(Status, uint64_t)> done) {
  Status s = ValidateRecord(record);
  if (!s.ok()) {
    done(s, 0);
    return;
  }
  AppendRequest request;
  request.records.push_back(std::move(record));
  request.done = [done = std::move(done)](const Status& st, std::vector<Record>& committed) {
    done(st, st.ok() ? committed[0].sequence : 0);
  };
  impl_->Submit(std::move(request));
}

Status RecordStore::SyncWal() {
  Impl& d = *impl_;
  if (d.options.read_only) return Status::FailedPrecondition("the record store is read-only");
  if (d.options.bulk_load) return Status::Ok();  // durable on close, by design
  const rocksdb::Status s = d.db->SyncWAL();
  return s.ok() ? Status::Ok() : Status::IoError("record store sync failed: " + s.ToString());
}

Result<bool> RecordStore::TryAppendNow(std::vector<Record>& records) {
  if (records.empty()) return true;
  for (size_t i = 0; i < records.size(); ++i) {
    IPN_RETURN_IF_ERROR(ValidateRecord(records[i]));
  }
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    if (d.options.read_only) {
      return Status::FailedPrecondition("the record store is open read-only");
    }
    if (d.stopping || !d.threads_started) {
      return Status::FailedPrecondition("the record store is closing");
    }
    if (!d.broken.ok()) return d.broken;
    // Idle means no sequence is taken and nothing unsynced is written: then the records
    // here follow everything acknowledged, and the synced write below makes them and all
    // before them durable.
    if (!d.queue.empty() || d.prepare_holding || d.commit_busy || d.handoff != nullptr ||
        !d.written_batches.empty() || d.sync_busy || d.inline_busy) {
      return false;
    }
    d.inline_busy = true;  // the prepare thread takes nothing until this is done
  }
  PreparedBatch batch;
  std::vector<AppendRequest> requests(1);
  requests[0].records = std::move(records);
  d.PrepareInto(requests, batch);
  std::string next(8, '\0');
  PutBigEndian64(d.next_sequence, next.data());
  batch.batch.Put(d.meta_cf, kMetaNextSequence, next);
  rocksdb::WriteOptions wo;
  wo.sync = !d.options.bulk_load && d.options.sync_wal;  // one write and one fdatasync
  wo.disableWAL = d.options.bulk_load;
  const rocksdb::Status written = d.db->Write(wo, &batch.batch);
  records = std::move(batch.requests[0].records);
  std::lock_guard lock(d.mu);
  if (written.ok()) d.QueueHistory(batch.history);
  d.inline_busy = false;
  // Wake only a waiter this append held up: a request queued meanwhile (the prepare thread
  // waits for inline_busy to clear) or Close. The prepare thread always waits on this
  // condition when idle, so an unconditional notify cost a futex wake-up and a cross-CPU
  // interrupt on every inline commit, on the decision's path.
  if (!d.queue.empty() || d.stopping) d.prepare_cv.notify_all();
  if (!written.ok()) {
    Status failed = Status::IoError("record store write failed: " + written.ToString());
    if (d.broken.ok()) {
      d.broken = failed.WithContext("the record store refuses appends until reopened");
      if (d.logger != nullptr)
        d.logger->Error("records_write_failed", {{"error", failed.ToString()}});
    }
    return failed;
  }
  d.committed_size = d.next_sequence;
  d.committed_range = d.prepare_range;
  if (d.options.tree_head_every_records > 0 &&
      d.committed_size - d.last_head_size >= d.options.tree_head_every_records) {
    d.head_due = true;
    d.background_cv.notify_one();
  }
  return true;
}

void RecordStore::Impl::Submit(AppendRequest request) {
  Status refused;
  {
    std::lock_guard lock(mu);
    if (options.read_only) {
      refused = Status::FailedPrecondition("the record store is open read-only");
    } else if (stopping || !threads_started) {
      refused = Status::FailedPrecondition("the record store is closing");
    } else if (!broken.ok()) {
      refused = broken;
    } else if (queued_records + request.records.size() >
               kMaxQueuedBatches * options.max_batch_records) {
      refused = Status::ResourceExhausted("too many appends are waiting to be committed");
    } else {
      queued_records += request.records.size();
      queue.push_back(std::move(request));
      prepare_cv.notify_one();
      return;
    }
  }
  request.done(refused, request.records);
}

void RecordStore::Impl::PrepareInto(std::vector<AppendRequest>& requests, PreparedBatch& batch) {
  std::string body, leaf, value;
  char sequence_key[8], person_key[kPersonKeyBytes], time_key[kTimeKeyBytes],
      node_key[kNodeKeyBytes], request_key_buf[kRequestKeyBytes];
  // One call for all the nonces: randombytes_buf is a system call per call.
  size_t count = 0;
  for (const AppendRequest& request : requests) count += request.records.size();
  std::vector<uint8_t> nonces(count * 24);
  randombytes_buf(nonces.data(), nonces.size());
  const uint8_t* nonce = nonces.data();
  const CompactRange::Emit emit = [&](int level, uint64_t index, const Hash& hash) {
    if (level % kStoredLevelStride == 0) {
      WriteNodeKey(level, index, node_key);
      batch.batch.Put(tree_cf, rocksdb::Slice(node_key, kNodeKeyBytes),
                      rocksdb::Slice(reinterpret_cast<const char*>(hash.data()), hash.size()));
    }
  };
  for (AppendRequest& request : requests) {
    for (Record& r : request.records) {
      r.sequence = next_sequence++;
      if (r.time_unix_us == 0) r.time_unix_us = clock->NowMicros();
      body.clear();
      AppendBody(r, body);
      leaf.clear();
      AppendLeafHeader(r.sequence, r.time_unix_us, r.record_symbol, leaf);
      leaf.append(body);
      const Hash leaf_hash = LeafHash(AsBytes(leaf));
      cipher->SealInto(r.sequence, r.time_unix_us, r.record_symbol, body, nonce, &value);
      nonce += 24;
      PutBigEndian64(r.sequence, sequence_key);
      batch.batch.Put(records_cf, rocksdb::Slice(sequence_key, 8), value);
      WritePersonKey(r.record_symbol, r.time_unix_us, r.sequence, person_key);
      batch.batch.Put(person_cf, rocksdb::Slice(person_key, kPersonKeyBytes), value);
      WriteTimeKey(r.time_unix_us, r.sequence, time_key);
      batch.batch.Put(time_cf, rocksdb::Slice(time_key, kTimeKeyBytes), rocksdb::Slice());
      if (RequestIndexKey(r, request_key_buf)) {
        batch.batch.Put(request_cf, rocksdb::Slice(request_key_buf, kRequestKeyBytes),
                        rocksdb::Slice(sequence_key, 8));
      }
      prepare_range.AppendLeaf(leaf_hash, emit);
      if (history_enabled) {
        const HistoryKind kind = HistoryKindOf(r);
        if (kind != HistoryKind::kNone) {
          batch.history.push_back({r.record_symbol, kind == HistoryKind::kWithheld, leaf_hash});
        }
      }
    }
    batch.records += request.records.size();
    batch.requests.push_back(std::move(request));
  }
}

void RecordStore::Impl::PrepareLoop() {
  std::unique_ptr<PreparedBatch> open;
  std::unique_lock lock(mu);
  while (true) {
    const bool can_hand_over = open != nullptr && !commit_busy;
    const bool can_take = !queue.empty() && !inline_busy &&
                          (open == nullptr || open->records < options.max_batch_records);
    if (can_hand_over) {
      std::string next(8, '\0');
      PutBigEndian64(next_sequence, next.data());
      open->batch.Put(meta_cf, kMetaNextSequence, next);
      open->end_sequence = next_sequence;
      open->range_after = prepare_range;
      handoff = std::move(open);
      prepare_holding = false;
      commit_busy = true;
      commit_cv.notify_one();
      continue;
    }
    if (can_take) {
      std::vector<AppendRequest> taken;
      size_t count = open != nullptr ? open->records : 0;
      while (!queue.empty() &&
             (taken.empty() || count + queue.front().records.size() <= options.max_batch_records)) {
        count += queue.front().records.size();
        queued_records -= queue.front().records.size();
        taken.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      prepare_holding = true;
      const Status failed = broken;
      lock.unlock();
      if (!failed.ok()) {
        for (AppendRequest& r : taken) r.done(failed, r.records);
        if (open == nullptr) {
          lock.lock();
          prepare_holding = false;
          lock.unlock();
        }
      } else {
        if (open == nullptr) {
          lock.lock();
          open = std::move(spare_batch);
          lock.unlock();
          if (open == nullptr) open = std::make_unique<PreparedBatch>();
        }
        PrepareInto(taken, *open);
      }
      taken.clear();
      lock.lock();
      continue;
    }
    if (stopping && queue.empty() && open == nullptr) {
      prepare_done = true;
      commit_cv.notify_one();
      return;
    }
    prepare_cv.wait(lock);
  }
}

void RecordStore::Impl::CommitLoop() {
  rocksdb::WriteOptions wo;
  wo.sync = false;  // the sync stage syncs the WAL for whole groups of batches
  wo.disableWAL = options.bulk_load;
  std::unique_lock lock(mu);
  while (true) {
    commit_cv.wait(lock, [this] { return handoff != nullptr || prepare_done; });
    if (handoff == nullptr) {
      commit_done = true;
      sync_cv.notify_one();
      return;
    }
    std::unique_ptr<PreparedBatch> batch = std::move(handoff);
    Status status = broken;
    lock.unlock();
    if (status.ok()) {
      rocksdb::Status s = db->Write(wo, &batch->batch);
      if (!s.ok()) status = Status::IoError("record store write failed: " + s.ToString());
    }
    auto written = std::make_unique<WrittenBatch>();
    written->requests = std::move(batch->requests);
    written->history = std::move(batch->history);
    batch->history.clear();
    written->end_sequence = batch->end_sequence;
    written->range_after = std::move(batch->range_after);
    written->status = status;
    // Keep the batch's buffers for the next one (saves re-growing megabytes each time).
    batch->batch.Clear();
    batch->requests.clear();
    batch->records = 0;
    lock.lock();
    if (!status.ok() && broken.ok()) {
      broken = status.WithContext("the record store refuses appends until reopened");
      if (logger != nullptr) logger->Error("records_write_failed", {{"error", status.ToString()}});
    }
    if (spare_batch == nullptr) spare_batch = std::move(batch);
    commit_busy = false;
    prepare_cv.notify_one();
    written_batches.push_back(std::move(written));
    sync_cv.notify_one();
  }
}

void RecordStore::Impl::SyncLoop() {
  std::vector<std::unique_ptr<WrittenBatch>> group;
  std::unique_lock lock(mu);
  while (true) {
    sync_cv.wait(lock, [this] { return !written_batches.empty() || commit_done; });
    if (written_batches.empty()) return;
    group.clear();
    for (auto& w : written_batches) group.push_back(std::move(w));
    written_batches.clear();
    sync_busy = true;
    // After a failed write the WAL's writer carries the error: a sync would fail anyway
    // (RocksDB asserts on it in builds with assertions). What was written but not synced
    // is not acknowledged; the store refuses appends until reopened.
    Status synced = broken;
    lock.unlock();
    if (!options.bulk_load && options.sync_wal && synced.ok()) {
      bool any_written = false;
      for (const auto& w : group) any_written = any_written || w->status.ok();
      if (any_written) {
        rocksdb::Status s = db->SyncWAL();
        if (!s.ok()) synced = Status::IoError("record store sync failed: " + s.ToString());
      }
    }
    lock.lock();
    for (auto& w : group) {
      if (w->status.ok()) w->status = synced;
      if (!w->status.ok()) continue;
      // With the size, under mu: a head takes exactly the steps of the records it covers.
      QueueHistory(w->history);
      committed_size = w->end_sequence;
      committed_range = std::move(w->range_after);
    }
    if (!synced.ok() && broken.ok()) {
      broken = synced.WithContext("the record store refuses appends until reopened");
      if (logger != nullptr) logger->Error("records_sync_failed", {{"error", synced.ToString()}});
    }
    if (options.tree_head_every_records > 0 &&
        committed_size - last_head_size >= options.tree_head_every_records) {
      head_due = true;
      background_cv.notify_one();
    }
    lock.unlock();
    for (auto& w : group) {
      for (AppendRequest& r : w->requests) r.done(w->status, r.records);
    }
    lock.lock();
    sync_busy = false;
  }
}

void RecordStore::Impl::BackgroundLoop() {
  using SteadyClock = std::chrono::steady_clock;
  const auto head_every = std::chrono::microseconds(options.tree_head_every_us);
  const auto purge_every = std::chrono::microseconds(options.purge_every_us);
  auto next_purge = SteadyClock::now() + purge_every;
  std::unique_lock lock(mu);
  while (!background_stop) {
    const auto now = SteadyClock::now();
    auto deadline = now + std::chrono::hours(24);
    if (options.tree_head_every_us > 0) {
      deadline = std::min(deadline, committed_size > last_head_size ? last_head_steady + head_every
                                                                    : now + head_every);
    }
    if (options.purge_every_us > 0) deadline = std::min(deadline, next_purge);
    background_cv.wait_until(lock, deadline, [this] { return background_stop || head_due; });
    if (background_stop) break;
    const auto woke = SteadyClock::now();
    const bool sign =
        head_due || (options.tree_head_every_us > 0 && committed_size > last_head_size &&
                     woke >= last_head_steady + head_every);
    head_due = false;
    const bool purge = options.purge_every_us > 0 && woke >= next_purge;
    lock.unlock();
    if (sign) {
      Result<SignedTreeHead> head = SignHead();
      if (!head.ok()) LogWarn("records_tree_head_failed", {{"error", head.status().ToString()}});
    }
    if (purge) {
      Result<PurgeResult> purged = Purge();
      if (!purged.ok()) LogWarn("records_purge_failed", {{"error", purged.status().ToString()}});
      next_purge = SteadyClock::now() + purge_every;
    }
    lock.lock();
  }
}

}  // namespace ipn::records
