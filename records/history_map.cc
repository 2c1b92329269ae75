// RecordStore: the per-person history maps (records/person_map.h) kept beside the log.
// Every settling record's step is queued when it is committed (QueueHistory, under mu with
// the committed size), and the next head applies the queue before it freezes the map, so
// a head covers exactly the records its size says and no hashing waits on an append. Each signed
// head saves the persons changed since the head before it and the size they cover, in the head's
// own write; at open the map is loaded from those rows and the records after that size are applied
// again.
#include <rocksdb/db.h>

#include "common/big_endian.h"
#include "records/record_codec.h"
#include "records/store_impl.h"

namespace ipn::records {

void RecordStore::Impl::QueueHistory(std::vector<HistoryStep>& steps) {
  if (queued_history.empty()) {
    queued_history.swap(steps);
  } else {
    queued_history.insert(queued_history.end(), steps.begin(), steps.end());
  }
  steps.clear();
}

void RecordStore::Impl::ApplyHistory(const std::vector<HistoryStep>& steps) {
  for (const HistoryStep& step : steps)
    person_map.Extend(step.person, step.withheld, step.leaf_hash);
}

Status RecordStore::Impl::LoadHistoryMap(const rocksdb::ReadOptions& ro) {
  if (options.read_only) return Status::Ok();
  history_enabled = true;
  std::string value;
  bool found = false;
  IPN_RETURN_IF_ERROR(ReadMeta(ro, kMetaHistorySize, &value, &found));
  uint64_t saved_size = 0;
  if (found) {
    if (value.size() != 8) return Status::Corruption("the saved history map size is malformed");
    saved_size = GetBigEndian64(value.data());
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, meta_cf));
    for (it->Seek(kMetaHistoryPrefix); it->Valid() && it->key().starts_with(kMetaHistoryPrefix);
         it->Next()) {
      std::string_view key = it->key().ToStringView().substr(sizeof(kMetaHistoryPrefix) - 1);
      std::string row(key);
      row.append(it->value().ToStringView());
      Result<PersonHistories> person = DecodePersonHistories(row);
      if (!person.ok()) return person.status().WithContext("the saved history map");
      person_map.Set(*person);
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the history map");
    person_map.TakeChanged();  // as saved
  }
  if (saved_size > committed_size) {
    return Status::Corruption("the saved history map covers " + std::to_string(saved_size) +
                              " records but the log holds " + std::to_string(committed_size));
  }
  // The records after the saved map (after a crash, or all of a store from before it).
  uint64_t from = saved_size;
  if (from < first_retained.load()) {
    // Purged before the map was saved: their chain steps cannot be taken again.
    LogWarn("records_history_map_incomplete",
            {{"saved_size", saved_size}, {"first_retained", first_retained.load()}});
    from = first_retained.load();
  }
  if (from < committed_size) {
    LogInfo("records_history_map_replay", {{"from", from}, {"to", committed_size}});
  }
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, records_cf));
  for (it->Seek(SequenceKey(from)); it->Valid(); it->Next()) {
    if (it->key().size() != 8) continue;
    const uint64_t sequence = GetBigEndian64(it->key().data());
    if (sequence >= committed_size) break;
    Result<Record> r = cipher->OpenRecord(sequence, it->value().ToStringView());
    if (!r.ok()) return r.status().WithContext("replaying the history map");
    person_map.Apply(*r, RecordLeafHash(*r));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot replay the history map");
  return Status::Ok();
}

Result<SignedTreeHead> RecordStore::Impl::SignHeadWithHistory() {
  std::unique_lock map_lock(map_mu);
  uint64_t size;
  CompactRange range;
  std::vector<HistoryStep> steps;
  {
    std::lock_guard lock(mu);
    if (!broken.ok()) return broken;
    size = committed_size;
    range = committed_range;
    steps.swap(queued_history);
  }
  ApplyHistory(steps);
  std::shared_ptr<const PersonMap::Snapshot> snapshot = person_map.Freeze();
  std::vector<PersonHistories> changed = person_map.TakeChanged();
  map_lock.unlock();

  const HistoryRoots roots{snapshot->disclosed_root(), snapshot->withheld_root()};
  Result<SignedTreeHead> signed_head =
      SignTreeHeadV2(size, range.Root(), roots, clock->NowMicros(), *signer);
  rocksdb::WriteBatch batch;
  if (signed_head.ok()) {
    const SignedTreeHead& head = *signed_head;
    batch.Put(heads_cf, HeadKey(head.tree_size, head.timestamp_us), EncodeTreeHead(head));
    for (const PersonHistories& p : changed) {
      const std::string row = EncodePersonHistories(p);
      batch.Put(meta_cf, std::string(kMetaHistoryPrefix) + row.substr(0, 32),
                rocksdb::Slice(row.data() + 32, row.size() - 32));
    }
    char n[8];
    PutBigEndian64(size, n);
    batch.Put(meta_cf, kMetaHistorySize, rocksdb::Slice(n, 8));
  }
  rocksdb::Status s;
  if (signed_head.ok()) {
    rocksdb::WriteOptions wo;
    wo.sync = !options.bulk_load;
    wo.disableWAL = options.bulk_load;
    s = db->Write(wo, &batch);
  }
  if (!signed_head.ok() || !s.ok()) {
    std::lock_guard relock(map_mu);
    person_map.RestoreChanged(changed);  // saved with the next head instead
    if (!signed_head.ok()) return signed_head.status();
    return FromRocks(s, "cannot store the tree head");
  }
  std::lock_guard relock(map_mu);
  history_snapshots.push_back({*signed_head, std::move(snapshot)});
  while (history_snapshots.size() > RecordStore::kKeptHistorySnapshots) {
    history_snapshots.pop_front();
  }
  return *signed_head;
}

Result<RecordStore::HistoryProof> RecordStore::ProveHistory(
    std::span<const uint8_t, 32> record_symbol, uint64_t min_size,
    std::optional<uint64_t> exact_size) {
  Impl& d = *impl_;
  if (!d.history_enabled) {
    return Status::FailedPrecondition("per-person histories are kept only by a writable store");
  }
  RecordSymbolBytes key;
  std::copy(record_symbol.begin(), record_symbol.end(), key.begin());
  auto prove = [&](const Impl::HeadSnapshot& kept) {
    HistoryProof proof;
    proof.head = kept.head;
    proof.disclosed = kept.snapshot->Prove(key, false);
    proof.withheld = kept.snapshot->Prove(key, true);
    return proof;
  };
  {
    std::lock_guard lock(d.map_mu);
    for (auto it = d.history_snapshots.rbegin(); it != d.history_snapshots.rend(); ++it) {
      if (exact_size ? it->head.tree_size == *exact_size : it->head.tree_size >= min_size) {
        return prove(*it);
      }
    }
    if (exact_size && d.pinned_history && d.pinned_history->head.tree_size == *exact_size) {
      return prove(*d.pinned_history);
    }
  }
  if (exact_size) {
    return Status::NotFound("the head of size " + std::to_string(*exact_size) +
                            " is not among the heads whose histories are kept");
  }
  Result<SignedTreeHead> head = d.SignHead();
  if (!head.ok()) return head.status();
  std::lock_guard lock(d.map_mu);
  for (auto it = d.history_snapshots.rbegin(); it != d.history_snapshots.rend(); ++it) {
    if (it->head == *head) return prove(*it);
  }
  return Status::Internal("the head just signed has no kept history map");
}

Result<SignedTreeHead> RecordStore::PinHistory(uint64_t tree_size, int64_t timestamp_us) {
  Impl& d = *impl_;
  std::lock_guard lock(d.map_mu);
  for (const Impl::HeadSnapshot& kept : d.history_snapshots) {
    if (kept.head.tree_size == tree_size && kept.head.timestamp_us == timestamp_us) {
      d.pinned_history = kept;
      return kept.head;
    }
  }
  if (d.pinned_history && d.pinned_history->head.tree_size == tree_size &&
      d.pinned_history->head.timestamp_us == timestamp_us) {
    return d.pinned_history->head;
  }
  return Status::NotFound("the head of size " + std::to_string(tree_size) +
                          " is not among the heads whose histories are kept");
}

}  // namespace ipn::records
