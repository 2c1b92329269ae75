// Retention: deleting records older than the retention period. Records go oldest first,
// in sequence order, while each one's time is before the cutoff; their index entries go
// with them; their leaf and subtree hashes stay, so the tree, every signed head and every
// proof stay verifiable. The new purge point is recorded in a purge statement signed
// with the store's Ed25519 key, so verification can tell a purge from a deletion.
#include <sodium.h>

#include "records/record_codec.h"
#include "records/store_impl.h"

namespace ipn::records {
namespace {

constexpr char kPurgeDomain[] = "ipn/records/purge/v1";
constexpr uint8_t kPurgeFormat = 1;
constexpr size_t kPurgeBytes = 1 + 8 + 8 + 8 + 32 + 64;
constexpr size_t kPurgeChunk = 10000;

std::string PurgeSigningInput(uint64_t first_retained, int64_t cutoff_us, int64_t now_us) {
  std::string input(kPurgeDomain);
  AppendBigEndian64(first_retained, input);
  AppendBigEndian64(static_cast<uint64_t>(cutoff_us), input);
  AppendBigEndian64(static_cast<uint64_t>(now_us), input);
  return input;
}

}  // namespace

Result<std::string> RecordStore::Impl::SignPurgeStatement(uint64_t first, int64_t cutoff_us,
                                                          int64_t now_us) const {
  std::string out;
  out.push_back(static_cast<char>(kPurgeFormat));
  AppendBigEndian64(first, out);
  AppendBigEndian64(static_cast<uint64_t>(cutoff_us), out);
  AppendBigEndian64(static_cast<uint64_t>(now_us), out);
  out.append(reinterpret_cast<const char*>(public_key.data()), public_key.size());
  const std::string input = PurgeSigningInput(first, cutoff_us, now_us);
  Result<Ed25519Signature> signature = signer->Sign(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(input.data()), input.size()));
  if (!signature.ok()) return signature.status().WithContext("cannot sign the purge");
  out.append(reinterpret_cast<const char*>(signature->data()), signature->size());
  return out;
}

bool RecordStore::Impl::ParsePurgeStatement(std::string_view bytes, uint64_t* first,
                                            PublicKey* signer, bool* signature_ok) {
  if (bytes.size() != kPurgeBytes || static_cast<uint8_t>(bytes[0]) != kPurgeFormat) return false;
  *first = GetBigEndian64(bytes.data() + 1);
  const int64_t cutoff = static_cast<int64_t>(GetBigEndian64(bytes.data() + 9));
  const int64_t now = static_cast<int64_t>(GetBigEndian64(bytes.data() + 17));
  std::copy(bytes.begin() + 25, bytes.begin() + 57, signer->begin());
  const std::string input = PurgeSigningInput(*first, cutoff, now);
  *signature_ok = crypto_sign_verify_detached(reinterpret_cast<const uint8_t*>(bytes.data()) + 57,
                                              reinterpret_cast<const uint8_t*>(input.data()),
                                              input.size(), signer->data()) == 0;
  return true;
}

Result<PurgeResult> RecordStore::Impl::Purge() {
  if (options.read_only) return Status::FailedPrecondition("the record store is open read-only");
  std::lock_guard purge_lock(purge_mu);
  const int64_t now = clock->NowMicros();
  const int64_t cutoff = now - options.retention_us;
  uint64_t end;
  {
    std::lock_guard lock(mu);
    if (!broken.ok()) return broken;
    end = committed_size;
  }
  PurgeResult result;
  uint64_t first = first_retained.load();
  rocksdb::WriteOptions wo;
  wo.sync = !options.bulk_load;
  wo.disableWAL = options.bulk_load;
  std::string leaf;
  bool done = false;
  while (!done && first < end && !shutting_down) {
    rocksdb::WriteBatch batch;
    uint64_t next = first;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), records_cf));
    it->Seek(SequenceKey(first));
    while (next < end && next - first < kPurgeChunk) {
      if (!it->Valid() || it->key() != SequenceKey(next)) {
        // A gap is tampering or corruption, not something to purge over.
        LogWarn("records_purge_stopped", {{"sequence", next}, {"reason", "record missing"}});
        done = true;
        break;
      }
      // Opening authenticates the clear time: a forged old time cannot get a record purged.
      Status opened = cipher->Open(next, it->value().ToStringView(), &leaf);
      if (!opened.ok()) {
        LogWarn("records_purge_stopped", {{"sequence", next}, {"reason", "record unreadable"}});
        done = true;
        break;
      }
      Result<ValueHeader> header = ParseValueHeader(it->value().ToStringView());
      if (header->time_unix_us >= cutoff) {
        done = true;
        break;
      }
      batch.Delete(records_cf, it->key());
      batch.Delete(person_cf, PersonKey(header->record_symbol, header->time_unix_us, next));
      batch.Delete(time_cf, TimeKey(header->time_unix_us, next));
      ++next;
      it->Next();
    }
    if (!it->status().ok()) {
      return Status::IoError("cannot read records to purge: " + it->status().ToString());
    }
    if (next == first) break;
    Result<std::string> statement = SignPurgeStatement(next, cutoff, now);
    if (!statement.ok()) return statement.status();
    batch.Put(meta_cf, kMetaPurge, *statement);
    rocksdb::Status s = db->Write(wo, &batch);
    if (!s.ok()) return Status::IoError("cannot write the purge: " + s.ToString());
    result.purged += next - first;
    first = next;
    first_retained = first;
  }
  result.first_retained = first;
  if (result.purged > 0) {
    LogInfo("records_purged", {{"records", result.purged}, {"first_retained", first}});
    // Drop the deleted records' files now rather than at the next periodic compaction.
    const std::string begin = SequenceKey(0), finish = SequenceKey(first);
    rocksdb::Slice b(begin), f(finish);
    rocksdb::CompactRangeOptions co;
    rocksdb::Status compacted = db->CompactRange(co, records_cf, &b, &f);
    if (!compacted.ok()) LogWarn("records_compaction_failed", {{"error", compacted.ToString()}});
    const std::string tbegin = TimeKey(INT64_MIN, 0), tend = TimeKey(cutoff, 0);
    rocksdb::Slice tb(tbegin), te(tend);
    compacted = db->CompactRange(co, time_cf, &tb, &te);
    if (!compacted.ok()) LogWarn("records_compaction_failed", {{"error", compacted.ToString()}});
  }
  return result;
}

}  // namespace ipn::records
