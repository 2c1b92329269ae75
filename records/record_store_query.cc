// RecordStore: reads — a record by sequence, one person's history (newest first, paged),
// a time range (Pull) and the monthly statistics built on it.
#include <sodium.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "common/civil_time.h"
#include "common/encoding.h"
#include "records/record_codec.h"
#include "records/store_impl.h"

namespace ipn::records {
namespace {

constexpr size_t kMaxPageSize = 1000;
constexpr uint8_t kPageTokenVersion = 1;
constexpr size_t kPullChunk = 512;

std::string EncodePageToken(int64_t time_us, uint64_t sequence) {
  uint8_t raw[17];
  raw[0] = kPageTokenVersion;
  PutBigEndian64(OrderedTime(time_us), raw + 1);
  PutBigEndian64(sequence, raw + 9);
  return Base32Encode(raw);
}

}  // namespace

Result<Record> RecordStore::Get(uint64_t sequence) const {
  if (sequence >= Size()) {
    return Status::NotFound("no record " + std::to_string(sequence) + " in the log");
  }
  if (sequence < FirstRetained()) {
    return Status::NotFound("record " + std::to_string(sequence) + " was purged");
  }
  std::string value;
  rocksdb::Status s =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->records_cf, SequenceKey(sequence), &value);
  if (s.IsNotFound()) {
    return Status::Corruption("record " + std::to_string(sequence) +
                              " is missing from the store; run `ipn records verify`");
  }
  if (!s.ok()) return FromRocks(s, "cannot read record " + std::to_string(sequence));
  return impl_->cipher->OpenRecord(sequence, value);
}

Result<RecordStore::HistoryPage> RecordStore::History(std::span<const uint8_t, 32> record_symbol,
                                                      size_t page_size,
                                                      std::string_view page_token) const {
  if (page_size == 0 || page_size > kMaxPageSize) {
    return Status::InvalidArgument("page size must be 1 to " + std::to_string(kMaxPageSize));
  }
  std::string start(reinterpret_cast<const char*>(record_symbol.data()), 32);
  bool skip_start = false;
  if (!page_token.empty()) {
    Result<std::vector<uint8_t>> raw = Base32Decode(page_token);
    if (!raw.ok() || raw->size() != 17 || (*raw)[0] != kPageTokenVersion) {
      return Status::InvalidArgument("page token is malformed");
    }
    const char* position = reinterpret_cast<const char*>(raw->data()) + 1;
    start = PersonKey(record_symbol, TimeFromOrdered(GetBigEndian64(position)),
                      GetBigEndian64(position + 8));
    skip_start = true;
  }
  const uint64_t durable = Size();  // records written but not yet synced stay hidden
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->person_cf));
  it->Seek(start);
  if (skip_start && it->Valid() && it->key() == start) it->Next();
  const rocksdb::Slice prefix(reinterpret_cast<const char*>(record_symbol.data()), 32);
  HistoryPage page;
  page.records.reserve(std::min<size_t>(page_size, 64));
  for (; it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (page.records.size() == page_size) {
      const Record& last = page.records.back();
      page.next_page_token = EncodePageToken(last.time_unix_us, last.sequence);
      break;
    }
    rocksdb::Slice key = it->key();
    if (key.size() != kPersonKeyBytes) {
      return Status::Corruption("person index holds a malformed key; run `ipn records verify`");
    }
    const uint64_t sequence = PersonKeySequence(key.data());
    const int64_t time = PersonKeyTime(key.data());
    if (sequence >= durable) continue;
    Result<Record> record = impl_->cipher->OpenRecord(sequence, it->value().ToStringView());
    if (!record.ok()) return record.status();
    if (record->time_unix_us != time ||
        sodium_memcmp(record->record_symbol.data(), record_symbol.data(), 32) != 0) {
      return Status::Corruption("person index entry for record " + std::to_string(sequence) +
                                " does not match the record; run `ipn records verify`");
    }
    page.records.push_back(std::move(*record));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot read the person index");
  return page;
}

Status RecordStore::Pull(int64_t from_us, int64_t to_us, std::string_view agency,
                         const std::function<bool(const Record&)>& each) const {
  if (from_us >= to_us) return Status::InvalidArgument("the time range is empty (from >= to)");
  const uint64_t durable = Size();  // records written but not yet synced stay hidden
  const rocksdb::Snapshot* snapshot = impl_->db->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() { db->ReleaseSnapshot(s); }
  } release{impl_->db.get(), snapshot};
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  const std::string upper = TimeKey(to_us, 0);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions iter_ro = ro;
  iter_ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(iter_ro, impl_->time_cf));
  it->Seek(TimeKey(from_us, 0));

  std::vector<std::string> keys;
  std::vector<int64_t> times;
  std::vector<uint64_t> sequences;
  bool more = true;
  while (more) {
    keys.clear();
    times.clear();
    sequences.clear();
    for (; it->Valid() && keys.size() < kPullChunk; it->Next()) {
      rocksdb::Slice key = it->key();
      if (key.size() != kTimeKeyBytes) {
        return Status::Corruption("time index holds a malformed key; run `ipn records verify`");
      }
      if (TimeKeySequence(key.data()) >= durable) continue;
      sequences.push_back(TimeKeySequence(key.data()));
      times.push_back(TimeFromOrdered(GetBigEndian64(key.data())));
      keys.push_back(SequenceKey(sequences.back()));
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the time index");
    if (keys.empty()) break;
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), impl_->records_cf);
    std::vector<std::string> values;
    std::vector<rocksdb::Status> statuses = impl_->db->MultiGet(ro, cfs, slices, &values);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (statuses[i].IsNotFound()) {
        return Status::Corruption("time index entry for record " + std::to_string(sequences[i]) +
                                  " has no record; run `ipn records verify`");
      }
      if (!statuses[i].ok()) return FromRocks(statuses[i], "cannot read the records");
      Result<Record> record = impl_->cipher->OpenRecord(sequences[i], values[i]);
      if (!record.ok()) return record.status();
      if (record->time_unix_us != times[i]) {
        return Status::Corruption("time index entry for record " + std::to_string(sequences[i]) +
                                  " does not match the record; run `ipn records verify`");
      }
      if (!agency.empty() && record->inquirer != agency && record->provider != agency) continue;
      if (!each(*record)) {
        more = false;
        break;
      }
    }
    if (!it->Valid()) break;
  }
  return Status::Ok();
}

Result<std::vector<StatsRow>> RecordStore::Stats(int64_t from_us, int64_t to_us) const {
  using Key = std::tuple<std::string, std::string, std::string, std::string, int, std::string>;
  std::map<Key, uint64_t> counts;
  Status s = Pull(from_us, to_us, "", [&](const Record& r) {
    ++counts[Key(UtcMonthOf(r.time_unix_us), r.inquirer, r.provider, r.business,
                 static_cast<int>(r.event), r.outcome)];
    return true;
  });
  if (!s.ok()) return s;
  std::vector<StatsRow> rows;
  rows.reserve(counts.size());
  for (const auto& [key, count] : counts) {
    StatsRow row;
    row.month = std::get<0>(key);
    row.inquirer = std::get<1>(key);
    row.provider = std::get<2>(key);
    row.business = std::get<3>(key);
    row.event = static_cast<Event>(std::get<4>(key));
    row.outcome = std::get<5>(key);
    row.count = count;
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace ipn::records
