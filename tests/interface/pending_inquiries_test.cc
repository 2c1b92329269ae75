// PendingInquiries: the inquirer node's rendezvous of the core's decision with the
// provider's sealed answer, in either order, and every other way an inquiry ends.
#include "interface/pending_inquiries.h"

#include <gtest/gtest.h>

namespace ipn::interface {
namespace {

constexpr char kProvider[] = "MUN-131016";

class PendingInquiriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(p_.Start("r1", "client-a", kProvider, /*now_us=*/1000, /*deadline_us=*/5000).ok());
  }
  static v1::InquiryDecision Accepted(const std::string& exchange_id) {
    v1::InquiryDecision d;
    d.set_accepted(true);
    d.set_exchange_id(exchange_id);
    d.mutable_provider_node()->set_agency_code(kProvider);
    return d;
  }
  Result<std::optional<Delivery>> Answer(const std::string& exchange_id,
                                         const std::string& from = kProvider,
                                         v1::Outcome outcome = v1::OUTCOME_PROVIDED) {
    return p_.OnAnswer(from, exchange_id, outcome, "income: 3,200,000", 2000);
  }
  PendingInquiries p_;
};

TEST_F(PendingInquiriesTest, DecisionThenAnswerDeliversWithAReceipt) {
  EXPECT_FALSE(p_.OnDecision("r1", Accepted("x1")).has_value()) << "no answer yet";
  auto d = Answer("x1");
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->has_value());
  const Delivery& delivery = **d;
  EXPECT_EQ(delivery.request_id, "r1");
  EXPECT_EQ(delivery.client, "client-a");
  EXPECT_EQ(delivery.exchange_id, "x1");
  EXPECT_EQ(delivery.started_us, 1000);
  EXPECT_TRUE(delivery.send_receipt);
  EXPECT_EQ(delivery.result.outcome(), v1::OUTCOME_PROVIDED);
  EXPECT_EQ(delivery.result.payload(), "income: 3,200,000");
  EXPECT_EQ(delivery.result.provider_code(), kProvider);
  EXPECT_EQ(delivery.result.exchange_id(), "x1");
  EXPECT_EQ(p_.size(), 0u);
}

TEST_F(PendingInquiriesTest, AnswerBeforeDecisionIsHeldUntilTheDecisionNamesIt) {
  auto held = Answer("x1");
  ASSERT_TRUE(held.ok());
  EXPECT_FALSE(held->has_value()) << "nothing reaches the agency before the accepted decision";
  EXPECT_EQ(p_.early_answers(), 1u);
  auto d = p_.OnDecision("r1", Accepted("x1"));
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->send_receipt);
  EXPECT_EQ(d->result.payload(), "income: 3,200,000");
  EXPECT_EQ(p_.early_answers(), 0u);
  EXPECT_EQ(p_.size(), 0u);
}

TEST_F(PendingInquiriesTest, AnAnswerFromANodeNoInquiryWaitsOnIsNotEvenHeld) {
  EXPECT_EQ(Answer("x1", "INS-0001").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(p_.early_answers(), 0u);
  EXPECT_FALSE(p_.OnDecision("r1", Accepted("x1")).has_value());
  EXPECT_EQ(p_.size(), 1u) << "still waiting for the real provider";
  auto d = Answer("x1");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->has_value());
}

TEST_F(PendingInquiriesTest, AnAnswerFromAnotherNodeAfterTheDecisionIsRefused) {
  p_.OnDecision("r1", Accepted("x1"));
  auto d = Answer("x1", "INS-0001");
  EXPECT_EQ(d.status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(p_.size(), 1u);
}

TEST_F(PendingInquiriesTest, ARefusalEndsTheInquiryWithoutAReceipt) {
  v1::InquiryDecision refused;
  refused.set_deny_reason(v1::DENY_REASON_NO_SUCH_LINK);
  refused.set_explanation("no row allows it");
  auto d = p_.OnDecision("r1", refused);
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->send_receipt);
  EXPECT_EQ(d->result.outcome(), v1::OUTCOME_REFUSED);
  EXPECT_EQ(d->result.deny_reason(), v1::DENY_REASON_NO_SUCH_LINK);
  EXPECT_EQ(d->result.explanation(), "no row allows it");
  EXPECT_TRUE(d->exchange_id.empty());
}

TEST_F(PendingInquiriesTest, NotIssuedToTheProviderEndsAsNotHeld) {
  v1::InquiryDecision refused;
  refused.set_deny_reason(v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER);
  EXPECT_EQ(p_.OnDecision("r1", refused)->result.outcome(), v1::OUTCOME_NOT_HELD);
}

TEST_F(PendingInquiriesTest, AResultAfterTheAnswerWasDeliveredChangesNothing) {
  p_.OnDecision("r1", Accepted("x1"));
  ASSERT_TRUE(Answer("x1")->has_value());
  v1::InquiryResult late;
  late.set_outcome(v1::OUTCOME_TIMED_OUT);
  EXPECT_FALSE(p_.OnResult("r1", late).has_value());
}

TEST_F(PendingInquiriesTest, AResultBeforeAnyAnswerEndsTheInquiry) {
  p_.OnDecision("r1", Accepted("x1"));
  v1::InquiryResult r;
  r.set_outcome(v1::OUTCOME_TIMED_OUT);
  auto d = p_.OnResult("r1", r);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->result.outcome(), v1::OUTCOME_TIMED_OUT);
  EXPECT_EQ(d->result.exchange_id(), "x1");
  EXPECT_FALSE(d->send_receipt);
  // A late answer for the ended exchange is dropped, not parked.
  EXPECT_EQ(Answer("x1").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(p_.early_answers(), 0u);
}

TEST_F(PendingInquiriesTest, AnUnreachableProviderEndsTheInquiryAtOnce) {
  v1::InquiryResult r;
  r.set_outcome(v1::OUTCOME_UNREACHABLE);
  r.set_exchange_id("x1");
  auto d = p_.OnResult("r1", r);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->result.outcome(), v1::OUTCOME_UNREACHABLE);
  EXPECT_EQ(d->result.provider_code(), kProvider);
}

TEST_F(PendingInquiriesTest, ACoreErrorEndsTheInquiryAsFailed) {
  auto d = p_.OnCoreError("r1", "unrecordable field");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->result.outcome(), v1::OUTCOME_FAILED);
  EXPECT_EQ(d->result.explanation(), "the core refused the message: unrecordable field");
}

// An old leader's error ended r1 while the new leader went ahead with it: the provider's
// answer, held for a decision that came too late, is dropped when that decision names it —
// it must not take the room of the next inquiry's answer to the same provider.
TEST_F(PendingInquiriesTest, AnAnswerHeldForAnInquiryThatEndedFirstIsDroppedByItsLateDecision) {
  ASSERT_TRUE(Answer("x1").ok());
  EXPECT_EQ(p_.early_answers(), 1u);
  ASSERT_TRUE(p_.OnCoreError("r1", "records unavailable: this core no longer leads").has_value());
  EXPECT_FALSE(p_.OnDecision("r1", Accepted("x1")).has_value());  // too late: ignored
  EXPECT_EQ(p_.early_answers(), 0u);
  ASSERT_TRUE(p_.Start("r2", "client-a", kProvider, 3000, 9000).ok());
  auto held = Answer("x2");  // r2's answer before its decision: room for it
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_FALSE(held->has_value());
  auto d = p_.OnDecision("r2", Accepted("x2"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->result.payload(), "income: 3,200,000");
}

TEST_F(PendingInquiriesTest, ADuplicateOrEmptyRequestIdIsRefusedAtTheNode) {
  EXPECT_EQ(p_.Start("r1", "client-b", kProvider, 0, 1).code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(p_.Start("", "client-b", kProvider, 0, 1).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(p_.size(), 1u);
}

TEST_F(PendingInquiriesTest, InquiriesInFlightAreBounded) {
  PendingInquiries small(PendingOptions{2, 1, 100});
  ASSERT_TRUE(small.Start("a", "c", kProvider, 0, 10).ok());
  ASSERT_TRUE(small.Start("b", "c", kProvider, 0, 10).ok());
  EXPECT_EQ(small.Start("c", "c", kProvider, 0, 10).code(), Status::Code::kResourceExhausted);
}

TEST_F(PendingInquiriesTest, AProviderCannotHoldMoreAnswersThanInquiriesAwaitIt) {
  // One inquiry awaits its decision from kProvider (r1): one answer may wait, not two.
  ASSERT_TRUE(Answer("x1").ok());
  EXPECT_EQ(Answer("x2").status().code(), Status::Code::kNotFound);
  ASSERT_TRUE(p_.Start("r2", "client-a", kProvider, 1000, 5000).ok());
  EXPECT_TRUE(Answer("x2").ok());
  EXPECT_EQ(p_.early_answers(), 2u);
}

TEST_F(PendingInquiriesTest, HeldAnswersAreBoundedAndExpire) {
  PendingInquiries small(PendingOptions{10, 1, 100});
  ASSERT_TRUE(small.Start("a", "c", kProvider, 0, 1000).ok());
  ASSERT_TRUE(small.Start("b", "c", kProvider, 0, 1000).ok());
  ASSERT_TRUE(small.OnAnswer(kProvider, "x1", v1::OUTCOME_PROVIDED, "p", 0).ok());
  EXPECT_EQ(small.OnAnswer(kProvider, "x2", v1::OUTCOME_PROVIDED, "p", 0).status().code(),
            Status::Code::kResourceExhausted);
  EXPECT_EQ(small.OnAnswer(kProvider, "x1", v1::OUTCOME_PROVIDED, "p", 0).status().code(),
            Status::Code::kAlreadyExists);
  small.Expire(99);
  EXPECT_EQ(small.early_answers(), 1u);
  small.Expire(100);
  EXPECT_EQ(small.early_answers(), 0u);
}

TEST_F(PendingInquiriesTest, AnInquiryWithNoEndTimesOutAtItsDeadline) {
  EXPECT_TRUE(p_.Expire(4999).empty());
  auto ended = p_.Expire(5000);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result.outcome(), v1::OUTCOME_TIMED_OUT);
  EXPECT_FALSE(ended[0].send_receipt);
  EXPECT_EQ(p_.size(), 0u);
}

TEST_F(PendingInquiriesTest, AnAcceptanceWithoutAnExchangeIdFails) {
  auto d = p_.OnDecision("r1", Accepted(""));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->result.outcome(), v1::OUTCOME_FAILED);
}

TEST_F(PendingInquiriesTest, AProviderCannotClaimAnOutcomeOtherThanItsOwn) {
  p_.OnDecision("r1", Accepted("x1"));
  auto d = Answer("x1", kProvider, v1::OUTCOME_TIMED_OUT);
  EXPECT_EQ((*d)->result.outcome(), v1::OUTCOME_FAILED);
}

TEST_F(PendingInquiriesTest, ASecondDecisionForTheSameInquiryIsIgnored) {
  p_.OnDecision("r1", Accepted("x1"));
  v1::InquiryDecision refused;
  refused.set_deny_reason(v1::DENY_REASON_NO_SUCH_LINK);
  EXPECT_FALSE(p_.OnDecision("r1", refused).has_value());
  EXPECT_EQ(p_.size(), 1u);
}

}  // namespace
}  // namespace ipn::interface
