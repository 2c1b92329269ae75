// RecordReplicator: commit through etcd, apply in order, seal the window, trim it.
#include "replica/record_replicator.h"

#include <sodium.h>

#include <algorithm>
#include <limits>

#include "common/big_endian.h"

namespace ipn::replica {
namespace {

constexpr uint32_t kReplicaFormat = 1;
constexpr uint8_t kSealFormat = 1;
constexpr size_t kSealHeader = 1 + 4 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "ipnrepl1";
// The store's metadata entry naming the log entry it last reported applied.
constexpr char kAppliedEntryMeta[] = "replica.applied_entry";

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

Result<std::optional<uint64_t>> KeptAppliedEntry(const records::RecordStore& store) {
  Result<std::string> kept = store.GetMeta(kAppliedEntryMeta);
  if (!kept.ok()) {
    if (kept.status().code() == Status::Code::kNotFound) return std::optional<uint64_t>();
    return kept.status().WithContext("reading the store's applied log entry");
  }
  std::optional<uint64_t> applied = ParseDecimal(*kept);
  if (!applied) return Status::Corruption("the store's applied log entry is unreadable");
  return applied;
}

Result<std::unique_ptr<RecordReplicator>> RecordReplicator::Create(EtcdClient* etcd,
                                                                   records::RecordStore* store,
                                                                   ReplicatorOptions options) {
  if (options.site.empty()) return Status::InvalidArgument("a replica needs its site's name");
  if (options.keys.empty()) return Status::InvalidArgument("a replica needs the records keys");
  if (options.read_page < 1) return Status::InvalidArgument("read_page must be at least 1");
  std::unique_ptr<RecordReplicator> r(new RecordReplicator(etcd, store, std::move(options)));
  for (const auto& [version, key] : r->options_.keys) {
    if (key.size() != crypto_kdf_KEYBYTES) {
      return Status::InvalidArgument("records key version " + std::to_string(version) +
                                     " is not 32 bytes");
    }
    SecretBytes sub(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
    // A key of its own for the window (subkey 1 of the records key): a sealed batch and
    // a stored record never share a key.
    crypto_kdf_derive_from_key(sub.data(), sub.size(), 1, kKdfContext, key.data());
    r->seal_keys_.emplace_back(version, std::move(sub));
  }
  std::sort(r->seal_keys_.begin(), r->seal_keys_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  // Where this store's catch-up resumes: the entry it last reported applied (kept with
  // the store, so a restart or a restored backup reads only what it lacks).
  Result<std::optional<uint64_t>> kept = KeptAppliedEntry(*store);
  if (!kept.ok()) return kept.status();
  if (kept->has_value()) {
    r->applied_entry_ = r->persisted_entry_ = **kept;
  } else if (store->Size() > 0) {
    // A store that holds records but no position was fed before positions were kept
    // (an upgrade): it starts where the window starts, as it did then, each batch checked
    // against the store (Apply), and keeps its position from its next report on.
    r->position_unknown_ = true;
  }
  return r;
}

RecordReplicator::RecordReplicator(EtcdClient* etcd, records::RecordStore* store,
                                   ReplicatorOptions options)
    : etcd_(etcd), store_(store), options_(std::move(options)), log_(etcd, options_.log_prefix) {}

RecordReplicator::~RecordReplicator() = default;

Result<std::string> RecordReplicator::Seal(const std::string& log_key,
                                           const v1::ReplicaBatch& batch) const {
  std::string plain;
  if (!batch.SerializeToString(&plain)) return Status::Internal("cannot serialize a batch");
  const auto& [version, key] = seal_keys_.back();
  std::string out(kSealHeader + plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  p[0] = kSealFormat;
  PutBigEndian32(version, p + 1);
  uint8_t* nonce = p + 5;
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long written = 0;
  // The log key is the associated data: an entry copied to another position fails to open.
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      p + kSealHeader, &written, reinterpret_cast<const uint8_t*>(plain.data()), plain.size(),
      reinterpret_cast<const uint8_t*>(log_key.data()), log_key.size(), nullptr, nonce, key.data());
  sodium_memzero(plain.data(), plain.size());
  out.resize(kSealHeader + written);
  return out;
}

Result<v1::ReplicaBatch> RecordReplicator::Open(const std::string& log_key,
                                                const std::string& value) const {
  if (value.size() < kSealHeader + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
      static_cast<uint8_t>(value[0]) != kSealFormat) {
    return Status::Corruption("log entry " + log_key + " is not a sealed batch");
  }
  const auto* p = reinterpret_cast<const uint8_t*>(value.data());
  const uint32_t version = GetBigEndian32(p + 1);
  auto key = std::find_if(seal_keys_.begin(), seal_keys_.end(),
                          [&](const auto& k) { return k.first == version; });
  if (key == seal_keys_.end()) {
    return Status::FailedPrecondition("log entry " + log_key +
                                      " is sealed under records key version " +
                                      std::to_string(version) + ", which this site lacks");
  }
  std::string plain(value.size() - kSealHeader - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long got = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<uint8_t*>(plain.data()), &got, nullptr, p + kSealHeader,
          value.size() - kSealHeader, reinterpret_cast<const uint8_t*>(log_key.data()),
          log_key.size(), p + 5, key->second.data()) != 0) {
    return Status::Corruption("log entry " + log_key + " does not open (altered or moved)");
  }
  v1::ReplicaBatch batch;
  const bool parsed = batch.ParseFromArray(plain.data(), static_cast<int>(got));
  sodium_memzero(plain.data(), plain.size());
  if (!parsed) return Status::Corruption("log entry " + log_key + " holds no batch");
  if (batch.format() != kReplicaFormat) {
    return Status::FailedPrecondition("log entry " + log_key + " has batch format " +
                                      std::to_string(batch.format()) + "; this core reads " +
                                      std::to_string(kReplicaFormat));
  }
  return batch;
}

Status RecordReplicator::Apply(const LogEntry& entry) {
  const std::string key = log_.KeyOf(entry.seq);
  Result<v1::ReplicaBatch> batch = Open(key, entry.bytes);
  if (!batch.ok()) return batch.status();
  const uint64_t first = batch->first_sequence();
  const uint64_t n = static_cast<uint64_t>(batch->leaves_size());
  const uint64_t size = store_->Size();
  if (n == 0) {
    if (batch->issuances_size() == 0) return Status::Corruption("log entry " + key + " is empty");
    if (!options_.issuance_sink) {
      return Status::FailedPrecondition("log entry " + key +
                                        " holds issuances and nothing here takes them");
    }
    Status applied = Status::Ok();
    for (v1::Issuance& i : *batch->mutable_issuances()) {
      if (applied.ok())
        applied = options_.issuance_sink(i).WithContext("applying log entry " + key);
      std::string* linkage = i.mutable_linkage_symbol();  // never left in freed memory
      sodium_memzero(linkage->data(), linkage->size());
    }
    return applied;
  }
  if (batch->issuances_size() != 0) {
    return Status::Corruption("log entry " + key + " mixes records and issuances");
  }
  if (first + n <= size) {
    // Applied before (this store was fed up to here before a restart): it must be the
    // very same records, or this store's log and the leader's have parted.
    Result<records::Hash> have = store_->LeafHashAt(first + n - 1);
    if (!have.ok()) return have.status();
    if (*have != records::LeafHash(Bytes(batch->leaves(static_cast<int>(n - 1))))) {
      return Status::Corruption("record " + std::to_string(first + n - 1) +
                                " differs from log entry " + key + ": this replica's log diverged");
    }
    return Status::Ok();
  }
  if (first > size) {
    return Status::FailedPrecondition(
        "this replica holds " + std::to_string(size) +
        " records but the oldest batch left in etcd (" + key + ") starts at " +
        std::to_string(first) +
        ": it fell behind the window; restore it from another replica's checkpoint");
  }
  if (first != size) {
    return Status::Corruption("log entry " + key + " overlaps this store's tail (store " +
                              std::to_string(size) + ", batch from " + std::to_string(first) + ")");
  }
  std::vector<records::Record> records;
  records.reserve(n);
  for (const std::string& leaf : batch->leaves()) {
    Result<records::Record> r = records::DecodeLeaf(leaf);
    if (!r.ok()) return r.status().WithContext("log entry " + key);
    records.push_back(std::move(*r));
  }
  for (uint64_t i = 0; i < n; ++i) {
    if (records[i].sequence != first + i) {
      return Status::Corruption("log entry " + key + " numbers its records out of order");
    }
  }
  IPN_RETURN_IF_ERROR(store_->AppendBatch(records).WithContext("applying log entry " + key));
  return Status::Ok();
}

Result<uint64_t> RecordReplicator::CatchUp() {
  IPN_RETURN_IF_ERROR(ApplyCommitted());
  uint64_t applied = 0;
  while (true) {
    Result<std::vector<LogEntry>> page = log_.Read(applied_entry_ + 1, options_.read_page);
    if (!page.ok()) return page.status();
    for (const LogEntry& e : *page) {
      if (e.seq != applied_entry_ + 1 && !position_unknown_) {
        // Entries this store never applied were trimmed (it was down past the window's
        // bound, or it is new to a log that began before it): they may hold issuances as
        // well as records, so nothing later may be applied over the gap.
        return Status::FailedPrecondition(
            "this replica applied the log up to entry " + std::to_string(applied_entry_) +
            " but the oldest entry left in etcd is " + std::to_string(e.seq) +
            ": it fell behind the window; restore it from another replica's backup "
            "(ipn backup create there, ipn backup restore here; docs/operations.md)");
      }
      IPN_RETURN_IF_ERROR(Apply(e));
      applied_entry_ = e.seq;
      position_unknown_ = false;
      ++applied;
    }
    if (static_cast<int64_t>(page->size()) < options_.read_page) return applied;
  }
}

Status RecordReplicator::PrepareToLead() {
  next_entry_ = 0;
  Result<uint64_t> caught = CatchUp();
  if (!caught.ok()) return caught.status();
  Result<std::optional<uint64_t>> last = log_.Last();
  if (!last.ok()) return last.status();
  // Entries appended after the catch-up read (a former leader's last commit racing this
  // one) are applied now; the fence keeps any later one out.
  if (last->value_or(0) > applied_entry_) {
    caught = CatchUp();
    if (!caught.ok()) return caught.status();
  }
  next_entry_ = std::max(applied_entry_, last->value_or(0)) + 1;
  return Status::Ok();
}

Status RecordReplicator::Commit(const Fence& fence, std::vector<records::Record>& records) {
  // After an append whose outcome is unknown: look at the log again first (before the
  // batch's first sequence is taken from the store, which this may extend).
  IPN_RETURN_IF_ERROR(ApplyCommitted());  // the batch before this one, if still waiting
  if (next_entry_ == 0) IPN_RETURN_IF_ERROR(PrepareToLead());
  if (records.empty()) return Status::InvalidArgument("an empty batch");
  const uint64_t first = store_->Size();
  v1::ReplicaBatch batch;
  batch.set_format(kReplicaFormat);
  batch.set_first_sequence(first);
  batch.set_leader(options_.site);
  for (size_t i = 0; i < records.size(); ++i) {
    records::Record& r = records[i];
    // What every replica will append must be appendable: checked before it is committed.
    IPN_RETURN_IF_ERROR(records::ValidateRecord(r));
    if (r.time_unix_us <= 0) return Status::InvalidArgument("a replicated record needs its time");
    r.sequence = first + i;
    batch.add_leaves(records::EncodeLeaf(r));
  }
  Result<uint64_t> entry = AppendNext(fence, batch);
  if (!entry.ok()) return entry.status();
  // Committed on a majority: the local store follows (ApplyCommitted), after the caller
  // has released what waited for the batch — the local append (~175 us) is not on the
  // decision's path (bench/RESULTS.md).
  pending_ = records;  // a copy: the caller keeps its batch, sequences filled in
  pending_entry_ = *entry;
  return Status::Ok();
}

Status RecordReplicator::ApplyCommitted() {
  if (pending_.empty()) return Status::Ok();
  std::vector<records::Record> batch = std::move(pending_);
  pending_.clear();
  // On this thread when the store is idle (no hand-off to its pipeline's threads).
  Result<bool> now = store_->TryAppendNow(batch);
  Status local = !now.ok() ? now.status() : *now ? Status::Ok() : store_->AppendBatch(batch);
  if (!local.ok()) {
    // Committed all the same: the next PrepareToLead reads the log again and applies it.
    next_entry_ = 0;
    return local.WithContext("applying committed log entry " + std::to_string(pending_entry_) +
                             " locally");
  }
  applied_entry_ = pending_entry_;
  return Status::Ok();
}

Status RecordReplicator::CommitIssuances(const Fence& fence,
                                         const std::vector<v1::Issuance>& issuances) {
  if (issuances.empty()) return Status::InvalidArgument("no issuance to commit");
  IPN_RETURN_IF_ERROR(ApplyCommitted());
  if (next_entry_ == 0) IPN_RETURN_IF_ERROR(PrepareToLead());
  v1::ReplicaBatch batch;
  batch.set_format(kReplicaFormat);
  batch.set_first_sequence(store_->Size());
  batch.set_leader(options_.site);
  for (const v1::Issuance& i : issuances) *batch.add_issuances() = i;
  Result<uint64_t> appended = AppendNext(fence, batch);
  for (v1::Issuance& i : *batch.mutable_issuances()) {
    std::string* linkage = i.mutable_linkage_symbol();
    sodium_memzero(linkage->data(), linkage->size());
  }
  if (!appended.ok()) return appended.status();
  applied_entry_ = *appended;  // the issuing call applied them here already
  return Status::Ok();
}

Result<uint64_t> RecordReplicator::AppendNext(const Fence& fence, const v1::ReplicaBatch& batch) {
  Result<std::string> sealed = Seal(log_.KeyOf(next_entry_), batch);
  if (!sealed.ok()) return sealed.status();
  Result<int64_t> appended = log_.Append(fence, next_entry_, *sealed);
  if (!appended.ok()) {
    // Unknown (no quorum) or refused (not the leader): either way this entry number may
    // not be reused for another batch until PrepareToLead has looked at the log again.
    next_entry_ = 0;
    return appended.status();
  }
  position_unknown_ = false;
  return next_entry_++;
}

Status RecordReplicator::PublishApplied() {
  IPN_RETURN_IF_ERROR(ApplyCommitted());
  // Only what is durable here may be reported: the window below it will be trimmed.
  IPN_RETURN_IF_ERROR(store_->SyncWal());
  // Kept with the store before it is published: a restart resumes after it, and it is
  // never below what etcd may trim (PutMeta is durable when it returns).
  if (applied_entry_ != persisted_entry_) {
    IPN_RETURN_IF_ERROR(store_->PutMeta(kAppliedEntryMeta, std::to_string(applied_entry_)));
    persisted_entry_ = applied_entry_;
  }
  Result<int64_t> put =
      etcd_->Put(options_.applied_prefix + options_.site, std::to_string(applied_entry_), 0);
  return put.ok() ? Status::Ok() : put.status();
}

Result<int64_t> RecordReplicator::Trim(const std::vector<std::string>& sites) {
  uint64_t lowest = std::numeric_limits<uint64_t>::max();
  for (const std::string& site : sites) {
    Result<std::optional<KeyValue>> kv = etcd_->Get(options_.applied_prefix + site);
    if (!kv.ok()) return kv.status();
    if (!kv->has_value()) {  // a site that never reported holds the window (up to its bound)
      lowest = 0;
      continue;
    }
    std::optional<uint64_t> applied = ParseDecimal((*kv)->value);
    if (!applied) return Status::Corruption("bad applied position for " + site);
    lowest = std::min(lowest, *applied);
  }
  if (sites.empty()) return int64_t{0};
  Result<std::optional<uint64_t>> last = log_.Last();
  if (!last.ok()) return last.status();
  if (last->has_value() && **last > options_.max_window_entries) {
    lowest = std::max(lowest, **last - options_.max_window_entries);
  }
  if (lowest == 0) return int64_t{0};
  // Entries below the lowest applied go; the lowest applied itself stays, so the window
  // is never empty once anything was committed and the next entry number is never lost.
  return log_.Trim(lowest);
}

}  // namespace ipn::replica
