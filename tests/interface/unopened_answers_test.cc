// UnopenedAnswers: sealed answers from a peer not vouched for right now are held, bounded
// and for a while, and handed back by sender once the core vouches for it again.
#include "interface/unopened_answers.h"

#include <gtest/gtest.h>

namespace ipn::interface {
namespace {

v1::Answer Sealed(const std::string& exchange) {
  v1::Answer a;
  a.set_exchange_id(exchange);
  a.set_sealed_answer("ciphertext-of-" + exchange);
  return a;
}

std::vector<std::string> Exchanges(const std::vector<v1::Answer>& as) {
  std::vector<std::string> out;
  for (const v1::Answer& a : as) out.push_back(a.exchange_id());
  return out;
}

TEST(UnopenedAnswersTest, AnswersAreHandedBackBySenderInArrivalOrder) {
  UnopenedAnswers held;
  EXPECT_TRUE(held.Hold("MUN-131016", Sealed("x1"), 0));
  EXPECT_TRUE(held.Hold("REG-0001", Sealed("x2"), 1));
  EXPECT_TRUE(held.Hold("MUN-131016", Sealed("x3"), 2));
  EXPECT_EQ(Exchanges(held.Take("MUN-131016")), (std::vector<std::string>{"x1", "x3"}));
  EXPECT_EQ(held.size(), 1u);
  EXPECT_TRUE(held.Take("MUN-131016").empty());  // taken means no longer held
  std::vector<v1::Answer> reg = held.Take("REG-0001");
  ASSERT_EQ(reg.size(), 1u);
  EXPECT_EQ(reg[0].sealed_answer(), "ciphertext-of-x2");
  EXPECT_EQ(held.size(), 0u);
}

TEST(UnopenedAnswersTest, NoMoreThanTheBoundAreHeld) {
  UnopenedAnswers held({.max = 2, .ttl_us = 1'000});
  EXPECT_TRUE(held.Hold("MUN-131016", Sealed("x1"), 0));
  EXPECT_TRUE(held.Hold("MUN-131016", Sealed("x2"), 0));
  EXPECT_FALSE(held.Hold("MUN-131016", Sealed("x3"), 0));
  EXPECT_EQ(Exchanges(held.Take("MUN-131016")), (std::vector<std::string>{"x1", "x2"}));
  EXPECT_TRUE(held.Hold("MUN-131016", Sealed("x4"), 0));  // room again once taken
}

TEST(UnopenedAnswersTest, AnswersPastTheirTimeAreDropped) {
  UnopenedAnswers held({.max = 10, .ttl_us = 1'000});
  held.Hold("MUN-131016", Sealed("x1"), 0);
  held.Hold("MUN-131016", Sealed("x2"), 500);
  EXPECT_EQ(held.Expire(999), 0u);
  EXPECT_EQ(held.Expire(1'000), 1u);
  EXPECT_EQ(Exchanges(held.Take("MUN-131016")), (std::vector<std::string>{"x2"}));
  held.Hold("MUN-131016", Sealed("x3"), 2'000);
  EXPECT_EQ(held.Expire(10'000), 1u);
  EXPECT_EQ(held.size(), 0u);
}

}  // namespace
}  // namespace ipn::interface
