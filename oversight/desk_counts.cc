// The desk's counts (oversight/desk_counts.h): their keys, and the views read from them.
#include "oversight/desk_counts.h"

#include <algorithm>
#include <array>
#include <map>

#include "common/big_endian.h"

namespace ipn::oversight::desk {
namespace {

Status FromRocks(const rocksdb::Status& s, const char* what) {
  if (s.ok()) return Status::Ok();
  return Status::IoError(std::string("desk store: ") + what + ": " + s.ToString());
}

// A count's key: 'M' or 'D', the period, then the rest (see the file comment).
void CountKey(char granularity, const std::string& period, const records::Record& r,
              std::string* out) {
  std::string& k = *out;
  k.clear();
  k.push_back(granularity);
  k += period;
  for (const std::string* part : {&r.inquirer, &r.business, &r.item}) {
    k.push_back('\0');
    k += *part;
  }
  k.push_back('\0');
  k.push_back(static_cast<char>('A' + static_cast<int>(r.event)));
  k.push_back('\0');
  if (r.event == records::Event::kInquiryRefused) {
    k.append(r.outcome, 0, std::min(r.outcome.size(), kMaxReasonBytes));
  }
}

// A grouped daily total's key: the family letter, the day, \0, the field's value (for 'E':
// the event code, \0, the reason).
void GroupKey(char family, const std::string& day, const std::string& value, std::string* out) {
  out->clear();
  out->push_back(family);
  *out += day;
  out->push_back('\0');
  *out += value;
}

// A count's key split into its six fields (period, inquirer, business, item, event,
// reason); false when it is not six.
bool SplitCountKey(std::string_view k, std::array<std::string_view, 6>* parts) {
  size_t n = 0;
  for (size_t at = 0;; ++n) {
    const size_t nul = k.find('\0', at);
    if (n == parts->size()) return false;
    (*parts)[n] = k.substr(at, nul == std::string_view::npos ? k.npos : nul - at);
    if (nul == std::string_view::npos) break;
    at = nul + 1;
  }
  return n == parts->size() - 1 && (*parts)[4].size() == 1;
}

// The rows of one period's groups (see GroupBy), appended to `rows`; `groups` emptied.
void Flush(const std::string& period, GroupBy by,
           std::map<std::string, uint64_t, std::less<>>* groups, std::vector<VolumeRow>* rows) {
  for (const auto& [group, count] : *groups) {
    VolumeRow& row = rows->emplace_back();
    row.period = period;
    row.count = count;
    switch (by) {
      case GroupBy::kInquirer: row.inquirer = group; break;
      case GroupBy::kBusiness: row.business = group; break;
      case GroupBy::kItem: row.item = group; break;
      case GroupBy::kEvent:
        row.event = static_cast<records::Event>(group[0] - 'A');
        row.reason = group.substr(2);
        break;
      case GroupBy::kNone: break;
    }
  }
  groups->clear();
}

// A daily view by one field over every inquirer, from that field's daily totals.
Result<std::vector<VolumeRow>> GroupedDays(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* counts,
                                           const VolumeQuery& q) {
  const char family = q.group_by == GroupBy::kInquirer   ? 'I'
                      : q.group_by == GroupBy::kBusiness ? 'B'
                      : q.group_by == GroupBy::kItem     ? 'T'
                                                         : 'E';
  const std::string prefix(1, family);
  const std::string end = prefix + q.to + (q.to.empty() ? "\xff" : "\x01");
  std::vector<VolumeRow> rows;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, counts));
  for (it->Seek(prefix + q.from); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    if (!k.starts_with(prefix) || k.compare(end) >= 0) break;
    const std::string_view rest(k.data() + 1, k.size() - 1);
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos || it->value().size() != 8) {
      return Status::Corruption("desk store: a malformed daily total");
    }
    VolumeRow& row = rows.emplace_back();
    row.period = rest.substr(0, nul);
    row.count = GetBigEndian64(it->value().data());
    const std::string_view value = rest.substr(nul + 1);
    switch (family) {
      case 'I': row.inquirer = value; break;
      case 'B': row.business = value; break;
      case 'T': row.item = value; break;
      default:
        if (value.size() < 2 || value[1] != '\0') {
          return Status::Corruption("desk store: a malformed daily total");
        }
        row.event = static_cast<records::Event>(value[0] - 'A');
        row.reason = value.substr(2);
    }
  }
  IPN_RETURN_IF_ERROR(FromRocks(it->status(), "volumes"));
  return rows;
}

}  // namespace

void AddCounts(const records::Record& r, const std::string& month, const std::string& day,
               std::unordered_map<std::string, uint64_t>* delta, std::string* key) {
  CountKey('M', month, r, key);
  ++(*delta)[*key];
  CountKey('D', day, r, key);
  ++(*delta)[*key];
  // The day's totals by one field, for the grouped views (a year of them is a few
  // thousand keys, not the quarter million of the full daily counts).
  for (const auto& [family, field] : {std::pair<char, const std::string*>{'I', &r.inquirer},
                                      {'B', &r.business},
                                      {'T', &r.item}}) {
    GroupKey(family, day, *field, key);
    ++(*delta)[*key];
  }
  GroupKey('E', day, std::string(1, static_cast<char>('A' + static_cast<int>(r.event))), key);
  key->push_back('\0');
  if (r.event == records::Event::kInquiryRefused) {
    key->append(r.outcome, 0, std::min(r.outcome.size(), kMaxReasonBytes));
  }
  ++(*delta)[*key];
}

Result<std::vector<VolumeRow>> ReadVolumes(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* counts,
                                           const VolumeQuery& q, size_t reserve) {
  if (q.granularity == Granularity::kDay && q.group_by != GroupBy::kNone && q.inquirer.empty()) {
    return GroupedDays(db, counts, q);
  }
  const std::string prefix = q.granularity == Granularity::kMonth ? "M" : "D";
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, counts));
  std::vector<VolumeRow> rows;
  rows.reserve(reserve);
  const std::string end = prefix + q.to + (q.to.empty() ? "\xff" : "\x01");
  std::string period, event_reason;
  std::map<std::string, uint64_t, std::less<>> groups;  // group → count, in one period
  for (it->Seek(prefix + q.from); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    if (!k.starts_with(prefix) || k.compare(end) >= 0) break;
    // A year's daily view is ~250,000 rows: nothing is allocated for a row filtered out.
    std::array<std::string_view, 6> f;
    if (!SplitCountKey(std::string_view(k.data() + 1, k.size() - 1), &f) ||
        it->value().size() != 8) {
      return Status::Corruption("desk store: a malformed count");
    }
    if (!q.inquirer.empty() && f[1] != q.inquirer) continue;
    const uint64_t count = GetBigEndian64(it->value().data());
    if (q.group_by != GroupBy::kNone) {
      if (f[0] != period) {  // keys are in period order: one period's groups at a time
        Flush(period, q.group_by, &groups, &rows);
        period = f[0];
      }
      const std::string_view group = q.group_by == GroupBy::kInquirer   ? f[1]
                                     : q.group_by == GroupBy::kBusiness ? f[2]
                                     : q.group_by == GroupBy::kItem     ? f[3]
                                                                        : std::string_view();
      std::string_view name = group;
      if (q.group_by == GroupBy::kEvent) {  // the event and the reason, in a reused buffer
        event_reason.assign(f[4]);
        event_reason.push_back('\0');
        event_reason.append(f[5]);
        name = event_reason;
      }
      auto at = groups.find(name);
      if (at == groups.end()) at = groups.emplace(std::string(name), 0).first;
      at->second += count;
      continue;
    }
    VolumeRow& row = rows.emplace_back();
    row.period = f[0];
    row.inquirer = f[1];
    row.business = f[2];
    row.item = f[3];
    row.event = static_cast<records::Event>(f[4][0] - 'A');
    row.reason = f[5];
    row.count = count;
  }
  Flush(period, q.group_by, &groups, &rows);
  IPN_RETURN_IF_ERROR(FromRocks(it->status(), "volumes"));
  return rows;
}

}  // namespace ipn::oversight::desk
