// AnswerSeal: a sealed answer opens only for the exchange, sender and recipient it was
// sealed for; a replay under another exchange id, a relay by another provider, or a
// delivery to another inquirer is refused.
#include "interface/answer_seal.h"

#include <gtest/gtest.h>

#include "tests/interface/peer_node.h"

namespace ipn::interface {
namespace {

using testing::Peer;

class AnswerSealTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(at_mun_.Vouch(Peer("PEN", pen_)).ok());
    ASSERT_TRUE(at_mun_.Vouch(Peer("INS", ins_)).ok());
    ASSERT_TRUE(at_pen_.Vouch(Peer("MUN", mun_)).ok());
    ASSERT_TRUE(at_pen_.Vouch(Peer("INS", ins_)).ok());
    ASSERT_TRUE(at_ins_.Vouch(Peer("MUN", mun_)).ok());
  }
  v1::Answer Sealed(const std::string& exchange_id, const std::string& payload,
                    const std::string& to = "PEN") {
    v1::Answer a;
    EXPECT_TRUE(
        SealAnswer(at_mun_, {exchange_id, "MUN", to, v1::OUTCOME_PROVIDED, payload}, &a).ok());
    return a;
  }
  CurveKeyPair mun_ = CurveKeyPair::Generate(), pen_ = CurveKeyPair::Generate(),
               ins_ = CurveKeyPair::Generate();
  PeerDirectory at_mun_{&mun_}, at_pen_{&pen_}, at_ins_{&ins_};
};

TEST_F(AnswerSealTest, OpensForItsExchangeWithEveryBindingAndTheContentHidden) {
  const v1::Answer a = Sealed("x1", "local tax 2026: 123,400 JPY");
  EXPECT_EQ(a.exchange_id(), "x1");
  EXPECT_EQ(a.sealed_answer().find("local tax"), std::string::npos);
  Result<BoundAnswer> opened = OpenAnswer(at_pen_, "MUN", "PEN", a);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->exchange_id, "x1");
  EXPECT_EQ(opened->provider, "MUN");
  EXPECT_EQ(opened->inquirer, "PEN");
  EXPECT_EQ(opened->outcome, v1::OUTCOME_PROVIDED);
  EXPECT_EQ(opened->payload, "local tax 2026: 123,400 JPY");
}

TEST_F(AnswerSealTest, AnOldSealedAnswerReplayedForAnotherExchangeIsRefused) {
  v1::Answer replay = Sealed("x1", "last year's answer");
  replay.set_exchange_id("x2");
  Result<BoundAnswer> opened = OpenAnswer(at_pen_, "MUN", "PEN", replay);
  EXPECT_EQ(opened.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(opened.status().message().find("x1"), std::string::npos);
}

TEST_F(AnswerSealTest, TheOutcomeInClearIsNotTrusted) {
  v1::Answer a = Sealed("x1", "held");
  a.set_outcome(v1::OUTCOME_NOT_HELD);  // altered on the way: the sealed outcome stands
  Result<BoundAnswer> opened = OpenAnswer(at_pen_, "MUN", "PEN", a);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->outcome, v1::OUTCOME_PROVIDED);
}

TEST_F(AnswerSealTest, AnAnswerSealedForAnotherInquirerDoesNotOpen) {
  const v1::Answer for_ins = Sealed("x1", "for INS only", "INS");
  EXPECT_EQ(OpenAnswer(at_pen_, "MUN", "PEN", for_ins).status().code(), Status::Code::kCorruption);
  EXPECT_TRUE(OpenAnswer(at_ins_, "MUN", "INS", for_ins).ok());
}

TEST_F(AnswerSealTest, EachSealedBindingMustMatchTheDelivery) {
  v1::Answer names_ins;  // sealed by MUN's node, but naming INS as the provider
  ASSERT_TRUE(
      SealAnswer(at_mun_, {"x1", "INS", "PEN", v1::OUTCOME_PROVIDED, "p"}, &names_ins).ok());
  EXPECT_EQ(OpenAnswer(at_pen_, "MUN", "PEN", names_ins).status().code(),
            Status::Code::kPermissionDenied);
  const v1::Answer to_pen = Sealed("x1", "p");
  EXPECT_EQ(OpenAnswer(at_pen_, "MUN", "PEN-2", to_pen).status().code(),
            Status::Code::kPermissionDenied);
}

TEST_F(AnswerSealTest, ANodeThatDidNotSealItCannotPassItOff) {
  const v1::Answer a = Sealed("x1", "p");
  // The box opens only under the sender's key: sent by INS, it fails authentication.
  EXPECT_EQ(OpenAnswer(at_pen_, "INS", "PEN", a).status().code(), Status::Code::kCorruption);
  v1::Answer altered = a;
  altered.mutable_sealed_answer()->at(5) ^= 1;
  EXPECT_EQ(OpenAnswer(at_pen_, "MUN", "PEN", altered).status().code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace ipn::interface
