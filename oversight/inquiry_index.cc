// The inquiry index: interning and the two sort orders (see inquiry_index.h).
#include "oversight/inquiry_index.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <unordered_map>

namespace ipn::oversight {
namespace {

using records::Event;
using records::Record;

// Numbers record symbols 0, 1, 2, … in order of first sight (open addressing: a flat table
// is several times faster than a node-based map at a million records).
class SymbolInterner {
 public:
  using Symbol = std::array<uint8_t, 32>;

  uint32_t Intern(const Symbol& symbol) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    const uint64_t hash = Hash(symbol);
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.symbol == nullptr) {
        slot = Slot{hash, &symbol, size_};
        return size_++;
      }
      if (slot.hash == hash && *slot.symbol == symbol) return slot.id;
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    const Symbol* symbol = nullptr;  // into the caller's records
    uint32_t id = 0;
  };

  static uint64_t Hash(const Symbol& symbol) {
    uint64_t words[4];
    std::memcpy(words, symbol.data(), sizeof(words));
    uint64_t h = words[0] ^ (words[1] * 0x9E3779B97F4A7C15ULL) ^
                 (words[2] * 0xC2B2AE3D27D4EB4FULL) ^ (words[3] * 0x165667B19E3779F9ULL);
    h ^= h >> 31;  // splitmix64's finaliser, so every bit reaches the low ones
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27;
    return h;
  }

  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(1024, old.size() * 2), Slot{});
    const size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.symbol == nullptr) continue;
      size_t i = slot.hash & mask;
      while (slots_[i].symbol != nullptr) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;  // size a power of two, at most half full
  uint32_t size_ = 0;
};

}  // namespace

InquiryIndex IndexInquiries(std::span<const Record> records) {
  InquiryIndex out;
  std::unordered_map<std::string_view, uint32_t> agency_ids;
  SymbolInterner people;
  std::vector<Inquiry> inquiries;
  inquiries.reserve(records.size());
  std::string_view last_agency;
  uint32_t last_agency_id = 0;
  for (const Record& r : records) {
    if (r.event != Event::kInquiryAccepted && r.event != Event::kInquiryRefused) continue;
    // Refused because the core could not record (its disk was full): the core's fault, not
    // the agency's — and one tally covers the whole outage — so no rule counts them.
    if (r.event == Event::kInquiryRefused && r.outcome.starts_with("RECORDS_UNAVAILABLE ")) {
      continue;
    }
    if (inquiries.empty() || r.inquirer != last_agency) {
      auto [agency, is_new] =
          agency_ids.try_emplace(r.inquirer, static_cast<uint32_t>(out.agencies.size()));
      if (is_new) out.agencies.push_back(agency->first);
      last_agency = agency->first;
      last_agency_id = agency->second;
    }
    Inquiry& q = inquiries.emplace_back();
    q.agency = last_agency_id;
    q.person = people.Intern(r.record_symbol);
    q.time = r.time_unix_us;
    q.sequence = r.sequence;
    q.refused = r.event == Event::kInquiryRefused;
    q.unfiled = q.refused && std::all_of(r.record_symbol.begin(), r.record_symbol.end(),
                                         [](uint8_t b) { return b == 0; });
    if (q.unfiled) q.weight = AggregateCount(r.outcome);
  }

  // Counting sort by agency, then each agency's inquiries by time; a stable sort by person
  // within each agency keeps each person's inquiries in time order.
  std::vector<size_t> agency_start(out.agencies.size() + 1, 0);
  for (const Inquiry& q : inquiries) ++agency_start[q.agency + 1];
  for (size_t a = 1; a < agency_start.size(); ++a) agency_start[a] += agency_start[a - 1];
  out.by_agency_time.resize(inquiries.size());
  {
    std::vector<size_t> next(agency_start.begin(), agency_start.end() - 1);
    for (const Inquiry& q : inquiries) out.by_agency_time[next[q.agency]++] = q;
  }
  inquiries = std::vector<Inquiry>();
  const auto slice = [&](std::vector<Inquiry>& v, size_t a) {
    return std::span<Inquiry>(v).subspan(agency_start[a], agency_start[a + 1] - agency_start[a]);
  };
  for (size_t a = 0; a < out.agencies.size(); ++a) {
    std::span<Inquiry> agency = slice(out.by_agency_time, a);
    std::sort(agency.begin(), agency.end(), [](const Inquiry& x, const Inquiry& y) {
      return x.time != y.time ? x.time < y.time : x.sequence < y.sequence;
    });
  }
  out.by_person_time = out.by_agency_time;
  for (size_t a = 0; a < out.agencies.size(); ++a) {
    std::span<Inquiry> agency = slice(out.by_person_time, a);
    std::stable_sort(agency.begin(), agency.end(),
                     [](const Inquiry& x, const Inquiry& y) { return x.person < y.person; });
  }
  // Refusals filed under no person are about no one: not a person's history.
  std::erase_if(out.by_person_time, [](const Inquiry& q) { return q.unfiled; });
  return out;
}

uint64_t AggregateCount(std::string_view outcome) {
  constexpr std::string_view kCount = " count=";
  const size_t at = outcome.find(kCount);
  if (at == std::string_view::npos) return 1;
  uint64_t n = 0;
  const char* begin = outcome.data() + at + kCount.size();
  const char* end = outcome.data() + outcome.size();
  const auto [ptr, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc() || ptr == begin || n == 0) return 1;
  return n;
}

uint64_t Weight(std::span<const Inquiry> inquiries) {
  uint64_t total = 0;
  for (const Inquiry& q : inquiries) total += q.weight;
  return total;
}

bool SameAgency(const Inquiry& a, const Inquiry& b) {
  return a.agency == b.agency;
}
bool SameAgencyAndPerson(const Inquiry& a, const Inquiry& b) {
  return a.agency == b.agency && a.person == b.person;
}

std::vector<uint64_t> SortedSequences(std::span<const Inquiry> inquiries) {
  std::vector<uint64_t> sequences;
  sequences.reserve(inquiries.size());
  for (const Inquiry& q : inquiries) sequences.push_back(q.sequence);
  std::sort(sequences.begin(), sequences.end());
  return sequences;
}

}  // namespace ipn::oversight
