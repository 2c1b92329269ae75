// ServedInquiries: the provider node's forwarded inquiries — rotation over the agency's
// serving systems, a vanished serving system, answers only from the system asked, and
// expiry of inquiries the agency never answers.
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
  EXPECT_FALSE(s.NextServer().has_value());
  s.AddServer("a");
  s.AddServer("b");
  s.AddServer("a");  // a second Hello does not double its share
  EXPECT_EQ(s.servers(), 2u);
  EXPECT_EQ(s.NextServer(), "a");
  EXPECT_EQ(s.NextServer(), "b");
  EXPECT_EQ(s.NextServer(), "a");
}

TEST(ServedInquiriesTest, AVanishedServingSystemLeavesTheRotationWithWhatItHeld) {
  ServedInquiries s;
  s.AddServer("a");
  s.AddServer("b");
  ASSERT_TRUE(s.Add(Forwarded("x1", 100, "a")).ok());
  ASSERT_TRUE(s.Add(Forwarded("x2", 100, "b")).ok());
  auto orphaned = s.RemoveServer("a");
  ASSERT_EQ(orphaned.size(), 1u);
  EXPECT_EQ(orphaned[0].exchange_id, "x1");
  EXPECT_EQ(s.servers(), 1u);
  EXPECT_EQ(s.NextServer(), "b");
  EXPECT_EQ(s.NextServer(), "b");
  EXPECT_EQ(s.size(), 1u);
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
