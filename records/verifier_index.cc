// Verification of the person and time indexes (keyed multiset hashes over every entry,
// compared with the sums the chunks computed from the records; a re-scan names the
// sequences only when the sums differ) and of records outside the tree (strays).
#include <algorithm>
#include <array>
#include <cstring>

#include "records/record_codec.h"
#include "records/verifier.h"

namespace ipn::records {

void Verifier::ScanIndex(rocksdb::ColumnFamilyHandle* cf, char tag, size_t key_bytes,
                         SequenceOf sequence_of, std::string lower, std::string upper, Sum128& sum,
                         FindingList& findings) const {
  rocksdb::ReadOptions ro = ScanOptions();
  rocksdb::Slice upper_slice(upper);
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(ro, cf));
  const char* name = tag == 'P' ? "person" : "time";
  std::string buf;
  uint8_t fp[16];
  for (it->Seek(lower); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (key.size() != key_bytes) {
      findings.Add(FindingKind::kIndexMismatch, 0, std::string("malformed ") + name + " index key");
      continue;
    }
    const uint64_t seq = sequence_of(key.data());
    if (seq < first_retained_ || seq >= size_) {
      findings.Add(FindingKind::kIndexMismatch, seq,
                   std::string(name) + " index entry for a record the log does not hold");
      continue;
    }
    Fingerprint(tag, key.ToStringView(), it->value().ToStringView(), fp, buf);
    sum.Add(fp);
  }
}

void Verifier::ScanStrays(FindingList& findings) const {
  rocksdb::ReadOptions ro = ScanOptions();
  std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(ro, s_.records_cf));
  it->SeekToFirst();
  while (it->Valid()) {
    if (it->key().size() != 8) {
      findings.Add(FindingKind::kInserted, 0, "malformed record key");
      it->Next();
      continue;
    }
    const uint64_t seq = GetBigEndian64(it->key().data());
    if (seq < first_retained_) {
      findings.Add(FindingKind::kInserted, seq,
                   "record below the purge point " + Str(first_retained_));
      it->Next();
    } else if (seq < size_) {
      it->Seek(SequenceKey(size_));  // the chunks check the retained range
    } else {
      findings.Add(FindingKind::kInserted, seq, "record beyond the tree (size " + Str(size_) + ")");
      it->Next();
    }
  }
}

void Verifier::NameIndexMismatches(rocksdb::ColumnFamilyHandle* cf, char tag, size_t key_bytes,
                                   SequenceOf sequence_of, const std::vector<uint8_t>& skip,
                                   FindingList& findings) const {
  const uint64_t count = size_ - first_retained_;
  std::vector<std::array<uint8_t, 16>> expected(count);
  std::vector<uint8_t> state(count, 0);  // 0 no record, 1 expected, 2 seen
  rocksdb::ReadOptions ro = ScanOptions();
  std::string buf;
  {
    std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(ro, s_.records_cf));
    for (it->Seek(SequenceKey(first_retained_)); it->Valid(); it->Next()) {
      if (it->key().size() != 8) continue;
      const uint64_t seq = GetBigEndian64(it->key().data());
      if (seq >= size_) break;
      if (skip[seq - first_retained_]) continue;
      Result<ValueHeader> h = ParseValueHeader(it->value().ToStringView());
      if (!h.ok()) continue;
      if (tag == 'P') {
        Fingerprint('P', PersonKey(h->record_symbol, h->time_unix_us, seq),
                    it->value().ToStringView(), expected[seq - first_retained_].data(), buf);
      } else {
        Fingerprint('T', TimeKey(h->time_unix_us, seq), "", expected[seq - first_retained_].data(),
                    buf);
      }
      state[seq - first_retained_] = 1;
    }
  }
  const char* name = tag == 'P' ? "person" : "time";
  std::vector<std::pair<uint64_t, std::string>> found;
  std::unique_ptr<rocksdb::Iterator> it(s_.db->NewIterator(ro, cf));
  uint8_t fp[16];
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != key_bytes) continue;
    const uint64_t seq = sequence_of(it->key().data());
    if (seq < first_retained_ || seq >= size_) continue;  // reported by ScanIndex
    const uint64_t i = seq - first_retained_;
    if (skip[i]) continue;
    Fingerprint(tag, it->key().ToStringView(), it->value().ToStringView(), fp, buf);
    if (state[i] == 2) {
      found.emplace_back(seq, std::string("extra ") + name + " index entry");
    } else if (state[i] == 1 && std::memcmp(fp, expected[i].data(), 16) == 0) {
      state[i] = 2;
    } else {
      found.emplace_back(seq, std::string(name) + " index entry does not match its record");
    }
  }
  for (uint64_t i = 0; i < count; ++i) {
    if (state[i] == 1)
      found.emplace_back(first_retained_ + i, std::string("no ") + name + " index entry");
  }
  std::sort(found.begin(), found.end());
  for (auto& [seq, detail] : found) findings.Add(FindingKind::kIndexMismatch, seq, detail);
}

}  // namespace ipn::records
