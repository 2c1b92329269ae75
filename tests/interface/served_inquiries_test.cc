// ServedInquiries: the provider node's forwarded inquiries — the choice of serving system
// by item and in rotation, a vanished serving system, answers only from the system asked,
// and expiry of inquiries the agency never answers.
#include "interface/served_inquiries.h"

#include <gtest/gtest.h>

namespace ipn::interface {
namespace {

ServedInquiry Forwarded(const std::string& exchange_id, int64_t deadline,
                        const std::string& server) {
  ServedInquiry x;
  x.exchange_id = exchange_id;
  x.inquirer = "PEN-0001";
  x.deadline_us = deadline;
  x.server = server;
  return x;
}

TEST(ServedInquiriesTest, ServingSystemsTakeTurns) {
  ServedInquiries s;
  EXPECT_FALSE(s.NextServer("local-tax").has_value());
  EXPECT_FALSE(s.HasServer("local-tax"));
  ASSERT_TRUE(s.AddServer("a").ok());
  ASSERT_TRUE(s.AddServer("b").ok());
  ASSERT_TRUE(s.AddServer("a").ok());  // a second Hello does not double its share
  EXPECT_EQ(s.servers(), 2u);
  EXPECT_EQ(s.NextServer("local-tax"), "a");
  EXPECT_EQ(s.NextServer("pension"), "b");
  EXPECT_EQ(s.NextServer("local-tax"), "a");
}

TEST(ServedInquiriesTest, AVanishedServingSystemLeavesTheRotationWithWhatItHeld) {
  ServedInquiries s;
  ASSERT_TRUE(s.AddServer("a").ok());
  ASSERT_TRUE(s.AddServer("b").ok());
  ASSERT_TRUE(s.Add(Forwarded("x1", 100, "a")).ok());
  ASSERT_TRUE(s.Add(Forwarded("x2", 100, "b")).ok());
  auto orphaned = s.RemoveServer("a");
  ASSERT_EQ(orphaned.size(), 1u);
  EXPECT_EQ(orphaned[0].exchange_id, "x1");
  EXPECT_EQ(s.servers(), 1u);
  EXPECT_EQ(s.NextServer("local-tax"), "b");
  EXPECT_EQ(s.NextServer("local-tax"), "b");
  EXPECT_EQ(s.size(), 1u);
}

// Issue #14, "answer by hand": an item a serving system named goes to it, never to the
// general one (the middle-server platform), whichever joined first.
TEST(ServedInquiriesTest, AnItemGoesToTheSystemThatNamedIt) {
  ServedInquiries s;
  ASSERT_TRUE(s.AddServer("platform").ok());
  ASSERT_TRUE(s.AddServer("by-hand", {"local-tax"}).ok());
  EXPECT_TRUE(s.HasServer("local-tax"));
  EXPECT_EQ(s.NextServer("local-tax"), "by-hand");
  EXPECT_EQ(s.NextServer("local-tax"), "by-hand");
  EXPECT_EQ(s.NextServer("resident-record"), "platform");
  EXPECT_EQ(s.NextServer("local-tax"), "by-hand");
  EXPECT_EQ(s.NextServer("resident-record"), "platform");
}

TEST(ServedInquiriesTest, SystemsNamingTheSameItemTakeTurnsAtIt) {
  ServedInquiries s;
  ASSERT_TRUE(s.AddServer("general").ok());
  ASSERT_TRUE(s.AddServer("h1", {"local-tax", "pension"}).ok());
  ASSERT_TRUE(s.AddServer("h2", {"local-tax"}).ok());
  EXPECT_EQ(s.NextServer("local-tax"), "h1");
  EXPECT_EQ(s.NextServer("local-tax"), "h2");
  EXPECT_EQ(s.NextServer("local-tax"), "h1");
  EXPECT_EQ(s.NextServer("pension"), "h1") << "only h1 names pension";
  // h1 took the pension inquiry: the next local-tax goes to h2, the least recently chosen.
  EXPECT_EQ(s.NextServer("local-tax"), "h2");
  EXPECT_EQ(s.NextServer("local-tax"), "h1");
  EXPECT_EQ(s.NextServer("resident-record"), "general");
}

TEST(ServedInquiriesTest, AnItemNoSystemNamesGoesToTheGeneralOnesInTurn) {
  ServedInquiries s;
  ASSERT_TRUE(s.AddServer("g1").ok());
  ASSERT_TRUE(s.AddServer("by-hand", {"local-tax"}).ok());
  ASSERT_TRUE(s.AddServer("g2").ok());
  EXPECT_EQ(s.NextServer("resident-record"), "g1");
  EXPECT_EQ(s.NextServer("pension"), "g2");
  EXPECT_EQ(s.NextServer("resident-record"), "g1");
}

// With only systems that named items, another item has no serving system: the node then
// does what it does with none at all (holds the forward briefly, then fails it).
TEST(ServedInquiriesTest, AnItemNobodyTakesHasNoServingSystem) {
  ServedInquiries s;
  ASSERT_TRUE(s.AddServer("by-hand", {"local-tax"}).ok());
  EXPECT_FALSE(s.HasServer("resident-record"));
  EXPECT_FALSE(s.NextServer("resident-record").has_value());
  EXPECT_FALSE(s.NextServer("").has_value());
  EXPECT_EQ(s.NextServer("local-tax"), "by-hand");
}

// A vanished system that named an item (its send failed) leaves with what it held; its
// item falls back to the general systems.
TEST(ServedInquiriesTest, WhenTheSystemNamingAnItemIsGoneTheGeneralOnesTakeIt) {
  ServedInquiries s;
  ASSERT_TRUE(s.AddServer("platform").ok());
  ASSERT_TRUE(s.AddServer("by-hand", {"local-tax"}).ok());
  ASSERT_EQ(s.NextServer("local-tax"), "by-hand");
  ASSERT_TRUE(s.Add(Forwarded("x1", 100, "by-hand")).ok());
  const auto orphaned = s.RemoveServer("by-hand");
  ASSERT_EQ(orphaned.size(), 1u);
  EXPECT_EQ(orphaned[0].exchange_id, "x1");
  EXPECT_EQ(s.NextServer("local-tax"), "platform");
  EXPECT_EQ(s.NextServer("local-tax"), "platform");
  // It comes back (Hello after a restart): the item is its again.
  ASSERT_TRUE(s.AddServer("by-hand", {"local-tax"}).ok());
  EXPECT_EQ(s.NextServer("local-tax"), "by-hand");
}

// A forward the system naming its item never answered expires like any other; the system
// keeps its item (a serving system leaves only when a send to it fails).
TEST(ServedInquiriesTest, AnExpiredForwardLeavesTheSystemNamingItsItemInPlace) {
  ServedInquiries s(/*max_served=*/10, /*grace_us=*/50);
  ASSERT_TRUE(s.AddServer("platform").ok());
  ASSERT_TRUE(s.AddServer("by-hand", {"local-tax"}).ok());
  ASSERT_TRUE(s.Add(Forwarded("x1", 100, "by-hand")).ok());
  ASSERT_EQ(s.Expire(150).size(), 1u);
  EXPECT_EQ(s.NextServer("local-tax"), "by-hand");
}

// A second Hello replaces the items, and keeps the system's turn.
TEST(ServedInquiriesTest, ASecondHelloReplacesTheItems) {
  ServedInquiries s;
  ASSERT_TRUE(s.AddServer("platform").ok());
  ASSERT_TRUE(s.AddServer("c", {"local-tax"}).ok());
  ASSERT_TRUE(s.AddServer("c", {"pension"}).ok());
  EXPECT_EQ(s.servers(), 2u);
  EXPECT_EQ(s.NextServer("local-tax"), "platform");
  EXPECT_EQ(s.NextServer("pension"), "c");
  ASSERT_TRUE(s.AddServer("c").ok());  // now general: the two take turns
  EXPECT_EQ(s.NextServer("local-tax"), "platform");
  EXPECT_EQ(s.NextServer("local-tax"), "c");
}

TEST(ServedInquiriesTest, AHelloPastTheItemLimitsIsRefusedAndChangesNothing) {
  ServedInquiries s;
  std::vector<std::string> most;
  for (size_t i = 0; i < kMaxServedItems; ++i) most.push_back("item-" + std::to_string(i));
  most.back() = std::string(kMaxServedItemBytes, 'x');
  ASSERT_TRUE(s.AddServer("full", most).ok()) << "exactly at both limits";
  EXPECT_EQ(s.NextServer(std::string(kMaxServedItemBytes, 'x')), "full");

  std::vector<std::string> too_many = most;
  too_many.push_back("one-more");
  const Status many = s.AddServer("many", too_many);
  EXPECT_EQ(many.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(many.message().find(std::to_string(kMaxServedItems)), std::string::npos)
      << many.message();
  const Status longer = s.AddServer("long", {std::string(kMaxServedItemBytes + 1, 'x')});
  EXPECT_EQ(longer.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(longer.message().find(std::to_string(kMaxServedItemBytes)), std::string::npos)
      << longer.message();
  EXPECT_EQ(s.AddServer("empty", {""}).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.servers(), 1u) << "no refused system joined";
  // Refused again with too many, an existing system keeps the items it had.
  EXPECT_EQ(s.AddServer("full", too_many).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.NextServer("item-0"), "full");
  EXPECT_FALSE(s.HasServer("one-more"));
}

TEST(ServedInquiriesTest, AnAnswerIsTakenOnlyFromTheSystemThatWasAsked) {
  ServedInquiries s;
  ASSERT_TRUE(s.Add(Forwarded("x1", 100, "a")).ok());
  EXPECT_EQ(s.Take("x1", "b").status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(s.Take("x9", "a").status().code(), Status::Code::kNotFound);
  auto x = s.Take("x1", "a");
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->inquirer, "PEN-0001");
  EXPECT_EQ(s.Take("x1", "a").status().code(), Status::Code::kNotFound) << "taken once";
}

TEST(ServedInquiriesTest, AnExchangeIsServedOnce) {
  ServedInquiries s;
  ASSERT_TRUE(s.Add(Forwarded("x1", 100, "a")).ok());
  EXPECT_EQ(s.Add(Forwarded("x1", 100, "a")).code(), Status::Code::kAlreadyExists);
}

TEST(ServedInquiriesTest, AForwardTheAgencyNeverAnswersIsDroppedAfterItsDeadline) {
  ServedInquiries s(/*max_served=*/10, /*grace_us=*/50);
  ASSERT_TRUE(s.Add(Forwarded("x1", 100, "a")).ok());
  ASSERT_TRUE(s.Add(Forwarded("x2", 200, "a")).ok());
  EXPECT_TRUE(s.Expire(149).empty());
  auto expired = s.Expire(150);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].exchange_id, "x1");
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.Take("x1", "a").status().code(), Status::Code::kNotFound) << "a late answer";
}

TEST(ServedInquiriesTest, ServedInquiriesAreBounded) {
  ServedInquiries s(/*max_served=*/1);
  ASSERT_TRUE(s.Add(Forwarded("x1", 100, "a")).ok());
  EXPECT_EQ(s.Add(Forwarded("x2", 100, "a")).code(), Status::Code::kResourceExhausted);
}

}  // namespace
}  // namespace ipn::interface
