// Tests of oversight/inquiry_index: which records count as inquiries, the interning of
// agencies and people, and the two sort orders the anomaly rules rely on.
#include "oversight/inquiry_index.h"

#include <gtest/gtest.h>

#include <vector>

namespace ipn::oversight {
namespace {

using records::Event;
using records::Record;

Record Make(uint64_t sequence, Event event, std::string inquirer, int64_t time, uint8_t person) {
  Record r;
  r.sequence = sequence;
  r.event = event;
  r.inquirer = std::move(inquirer);
  r.time_unix_us = time;
  r.record_symbol.fill(person);
  return r;
}

std::vector<uint64_t> Sequences(const std::vector<Inquiry>& inquiries) {
  std::vector<uint64_t> out;
  for (const Inquiry& q : inquiries) out.push_back(q.sequence);
  return out;
}

TEST(InquiryIndexTest, KeepsInquiriesInTheRulesOrders) {
  const std::vector<Record> records = {
      Make(0, Event::kInquiryAccepted, "B", 50, 1),
      Make(1, Event::kInquiryRefused, "A", 40, 2),
      Make(2, Event::kInquiryAccepted, "A", 10, 1),
      Make(3, Event::kProvided, "A", 11, 1),  // not an inquiry
      Make(4, Event::kInquiryAccepted, "A", 30, 2),
      Make(5, Event::kInquiryAccepted, "A", 30, 1),  // same time as 4: by sequence
      Make(6, Event::kInquiryAccepted, "B", 20, 3),
  };
  const InquiryIndex index = IndexInquiries(records);
  ASSERT_EQ(index.agencies.size(), 2u);
  EXPECT_EQ(index.agencies[0], "B");  // interned in order of first sight
  EXPECT_EQ(index.agencies[1], "A");
  // (agency, time, sequence): B's first, then A's.
  EXPECT_EQ(Sequences(index.by_agency_time), (std::vector<uint64_t>{6, 0, 2, 4, 5, 1}));
  // (agency, person, time, sequence): people numbered in order of first sight (1, 2, 3).
  EXPECT_EQ(Sequences(index.by_person_time), (std::vector<uint64_t>{0, 6, 2, 5, 4, 1}));
  EXPECT_TRUE(index.by_agency_time[5].refused);
  EXPECT_FALSE(index.by_agency_time[4].refused);
  EXPECT_EQ(index.by_agency_time[0].person, index.by_person_time[1].person);
}

TEST(InquiryIndexTest, GroupsAndSortedSequences) {
  const std::vector<Record> records = {
      Make(7, Event::kInquiryAccepted, "A", 1, 1), Make(3, Event::kInquiryAccepted, "A", 2, 2),
      Make(5, Event::kInquiryAccepted, "B", 3, 1), Make(9, Event::kInquiryAccepted, "A", 4, 1)};
  const InquiryIndex index = IndexInquiries(records);
  std::vector<std::vector<uint64_t>> agency_groups, person_groups;
  ForEachGroup(index.by_agency_time, SameAgency,
               [&](std::span<const Inquiry> g) { agency_groups.push_back(SortedSequences(g)); });
  ForEachGroup(index.by_person_time, SameAgencyAndPerson,
               [&](std::span<const Inquiry> g) { person_groups.push_back(SortedSequences(g)); });
  EXPECT_EQ(agency_groups, (std::vector<std::vector<uint64_t>>{{3, 7, 9}, {5}}));
  EXPECT_EQ(person_groups, (std::vector<std::vector<uint64_t>>{{7, 9}, {3}, {5}}));
}

TEST(InquiryIndexTest, EmptyWithoutInquiries) {
  const std::vector<Record> records = {Make(0, Event::kProvided, "A", 1, 1)};
  const InquiryIndex index = IndexInquiries(records);
  EXPECT_TRUE(index.by_agency_time.empty());
  EXPECT_TRUE(index.by_person_time.empty());
  int groups = 0;
  ForEachGroup(index.by_agency_time, SameAgency, [&](std::span<const Inquiry>) { ++groups; });
  EXPECT_EQ(groups, 0);
}

}  // namespace
}  // namespace ipn::oversight
