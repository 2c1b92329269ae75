// CoreOutbox: what a node sends the core again when its session changes (a failover) —
// inquiries until their decision, outcomes and receipts for a while; bounded; in order.
#include "interface/core_outbox.h"

#include <gtest/gtest.h>

namespace ipn::interface {
namespace {

v1::Envelope Inquiry(const std::string& id) {
  v1::Envelope e;
  e.set_request_id(id);
  e.mutable_inquiry()->set_inquirer_symbol("symbol-of-" + id);
  e.mutable_inquiry()->set_provider_code("MUN-131016");
  return e;
}

v1::Envelope Outcome(const std::string& exchange) {
  v1::Envelope e;
  e.set_request_id(exchange);
  e.mutable_provision_outcome()->set_exchange_id(exchange);
  e.mutable_provision_outcome()->set_outcome(v1::OUTCOME_PROVIDED);
  return e;
}

v1::Envelope Receipt(const std::string& request, const std::string& exchange) {
  v1::Envelope e;
  e.set_request_id(request);
  e.mutable_receipt()->set_exchange_id(exchange);
  e.mutable_receipt()->set_received(true);
  return e;
}

std::vector<std::string> Ids(const std::vector<v1::Envelope>& es) {
  std::vector<std::string> out;
  for (const v1::Envelope& e : es) out.push_back(e.request_id());
  return out;
}

TEST(CoreOutboxTest, UndecidedInquiriesThenRecentReportsAreSentAgainInOrder) {
  CoreOutbox box;
  box.KeepInquiry(Inquiry("r1"), 5'000);
  box.KeepInquiry(Inquiry("r2"), 5'000);
  box.KeepInquiry(Inquiry("r3"), 5'000);
  box.KeepReport(Outcome("x9"), 100);
  box.KeepReport(Receipt("r0", "x8"), 200);
  box.Decided("r2");
  std::vector<v1::Envelope> again = box.ToResend(1'000);
  EXPECT_EQ(Ids(again), (std::vector<std::string>{"r1", "r3", "x9", "r0"}));
  EXPECT_EQ(again[0].inquiry().inquirer_symbol(), "symbol-of-r1");
  EXPECT_TRUE(again[2].has_provision_outcome());
  EXPECT_TRUE(again[3].has_receipt());
  // Kept after a re-send: another session change may follow (a second failover).
  EXPECT_EQ(Ids(box.ToResend(1'000)), Ids(again));
}

TEST(CoreOutboxTest, AnInquiryIsKeptUntilItsDecisionOrItsDeadline) {
  CoreOutbox box;
  box.KeepInquiry(Inquiry("r1"), 1'000);
  box.KeepInquiry(Inquiry("r2"), 3'000);
  box.KeepInquiry(Inquiry("r2"), 9'000);  // a request id in flight is never kept twice
  EXPECT_EQ(box.inquiries(), 2u);
  EXPECT_EQ(Ids(box.ToResend(999)), (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(Ids(box.ToResend(1'000)), (std::vector<std::string>{"r2"}));
  box.Decided("r2");
  box.Decided("r2");
  box.Decided("unknown");
  EXPECT_TRUE(box.ToResend(1'001).empty());
  EXPECT_EQ(box.inquiries(), 0u);
}

TEST(CoreOutboxTest, ReportsAreKeptForTheirWindowOnly) {
  CoreOutboxOptions o;
  o.keep_reports_us = 10'000;
  CoreOutbox box(o);
  box.KeepReport(Outcome("x1"), 0);
  box.KeepReport(Outcome("x2"), 5'000);
  EXPECT_EQ(Ids(box.ToResend(9'999)), (std::vector<std::string>{"x1", "x2"}));
  box.Expire(10'000);
  EXPECT_EQ(Ids(box.ToResend(10'000)), (std::vector<std::string>{"x2"}));
  EXPECT_TRUE(box.ToResend(15'000).empty());
  EXPECT_EQ(box.reports(), 0u);
}

TEST(CoreOutboxTest, BoundsDropTheOldestFirst) {
  CoreOutboxOptions o;
  o.max_inquiries = 2;
  o.max_reports = 2;
  CoreOutbox box(o);
  box.KeepInquiry(Inquiry("r1"), 1'000);
  box.KeepInquiry(Inquiry("r2"), 2'000);
  box.KeepInquiry(Inquiry("r3"), 3'000);
  box.KeepReport(Outcome("x1"), 0);
  box.KeepReport(Outcome("x2"), 0);
  box.KeepReport(Outcome("x3"), 0);
  EXPECT_EQ(box.inquiries(), 2u);
  EXPECT_EQ(box.reports(), 2u);
  EXPECT_EQ(Ids(box.ToResend(0)), (std::vector<std::string>{"r2", "r3", "x2", "x3"}));
  // Decided entries leave their deadline's slot behind; the bound still holds.
  box.Decided("r2");
  box.Decided("r3");
  for (int i = 0; i < 10; ++i) box.KeepInquiry(Inquiry("n" + std::to_string(i)), 5'000 + i);
  EXPECT_EQ(box.inquiries(), 2u);
  EXPECT_EQ(Ids(box.ToResend(0)).size(), 4u);
}

}  // namespace
}  // namespace ipn::interface
