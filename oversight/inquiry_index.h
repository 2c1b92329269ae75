// The inquiry index (internal to the anomaly rules): the inquiries among the provision
// records, their agencies and record symbols interned to small numbers, in the two orders
// the rules read — (agency, time) for volume, refusal_burst and off_hours, and (agency,
// person, time) for person_focus — so that every rule is one linear pass over contiguous
// groups.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "records/record.h"

namespace ipn::oversight {

// One inquiry, its agency and person interned. An aggregate refusal record (refusals the
// core filed under no person: rate limit, duplicate, malformed, … — outcome
// "REASON count=N …", docs/limits.md) is one entry that weighs N inquiries.
struct Inquiry {
  uint32_t agency = 0;
  uint32_t person = 0;
  int64_t time = 0;
  uint64_t sequence = 0;
  uint64_t weight = 1;  // how many inquiries this record stands for
  bool refused = false;
  bool unfiled = false;  // filed under no person (an aggregate refusal)
};

// The count an aggregate refusal's outcome carries ("REASON count=N …"); 1 when it has none.
uint64_t AggregateCount(std::string_view outcome);

// The inquiries' total weight.
uint64_t Weight(std::span<const Inquiry> inquiries);

// The records' inquiries, with agency and person interned.
struct InquiryIndex {
  std::vector<std::string_view> agencies;  // by agency id
  std::vector<Inquiry> by_agency_time;     // sorted by (agency, time, sequence)
  std::vector<Inquiry> by_person_time;     // sorted by (agency, person, time, sequence);
                                           // filed inquiries only
};

// Indexes the inquiries (kInquiryAccepted and kInquiryRefused) of `records`, in any order,
// except refusals for RECORDS_UNAVAILABLE (the core's own outage, docs/limits.md).
// The index points into `records`, which must outlive it. O(n log n).
InquiryIndex IndexInquiries(std::span<const records::Record> records);

// Calls `visit(group)` for each maximal range of `sorted` on which `same` holds pairwise.
template <typename Same, typename Visit>
void ForEachGroup(std::span<const Inquiry> sorted, Same same, Visit visit) {
  size_t begin = 0;
  while (begin < sorted.size()) {
    size_t end = begin + 1;
    while (end < sorted.size() && same(sorted[begin], sorted[end])) ++end;
    visit(sorted.subspan(begin, end - begin));
    begin = end;
  }
}

bool SameAgency(const Inquiry& a, const Inquiry& b);
bool SameAgencyAndPerson(const Inquiry& a, const Inquiry& b);

// The inquiries' sequences, ascending.
std::vector<uint64_t> SortedSequences(std::span<const Inquiry> inquiries);

}  // namespace ipn::oversight
