// AutoAnswer without sockets: a forwarded inquiry answered from a tenant's copies.
#include "middle/auto_answer.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "tests/support/temp_dir.h"

namespace ipn::middle {
namespace {

constexpr char kMun[] = "MUN-131016";

class MiddleAutoAnswerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    wrapper_ = MakeSodiumWrapper(SecretBytes::Random(32), "file:test").value();
    store_ = MiddleStore::Open(dir_.Sub("m"), wrapper_.get()).value();
    ASSERT_TRUE(store_->CreateTenant(kMun).ok());
    ASSERT_TRUE(store_->CreateTenant("MUN-401307").ok());
    ASSERT_TRUE(store_->Bind(kMun, "P-1", "SYMBOL-OF-P1").ok());
    ASSERT_TRUE(store_->Bind(kMun, "P-2", "SYMBOL-OF-P2").ok());
    ASSERT_TRUE(
        store_->Register(kMun, Copy{"P-1", "local-tax", "tax 120,000", "2026-04-01", false, 0})
            .ok());
    ASSERT_TRUE(
        store_->Register(kMun, Copy{"P-2", "local-tax", "tax 0", "2026-04-01", true, 0}).ok());
  }
  v1::AgencyAnswer Ask(const std::string& tenant, const std::string& symbol,
                       const std::string& item) {
    v1::ForwardedInquiry f;
    f.set_provider_symbol(symbol);
    f.set_item_code(item);
    f.set_inquirer_code("PEN-0001");
    f.set_business_code("np-benefit");
    return AutoAnswer(*store_, tenant, f);
  }
  ipn::testing::TempDir dir_;
  std::unique_ptr<KeyWrapper> wrapper_;
  std::unique_ptr<MiddleStore> store_;
};

TEST_F(MiddleAutoAnswerTest, ACopyIsProvidedWithItsFlag) {
  v1::AgencyAnswer a = Ask(kMun, "SYMBOL-OF-P1", "local-tax");
  EXPECT_EQ(a.outcome(), v1::OUTCOME_PROVIDED);
  EXPECT_EQ(a.payload(), "tax 120,000");
  EXPECT_FALSE(a.non_disclosure());
  v1::AgencyAnswer withheld = Ask(kMun, "SYMBOL-OF-P2", "local-tax");
  EXPECT_EQ(withheld.outcome(), v1::OUTCOME_PROVIDED);
  EXPECT_TRUE(withheld.non_disclosure());
}

TEST_F(MiddleAutoAnswerTest, AKnownPersonWithoutTheCopyIsNotHeld) {
  EXPECT_EQ(Ask(kMun, "SYMBOL-OF-P1", "residence").outcome(), v1::OUTCOME_NOT_HELD);
}

// A symbol the platform never bound (a missed issuance) may well be a person the agency
// holds: "not held" would be false in the records, so the answer is a failure.
TEST_F(MiddleAutoAnswerTest, AnUnknownSymbolOrTenantFailsRatherThanSayNotHeld) {
  EXPECT_EQ(Ask(kMun, "SYMBOL-UNKNOWN", "local-tax").outcome(), v1::OUTCOME_FAILED);
  EXPECT_EQ(Ask("MUN-999999", "SYMBOL-OF-P1", "local-tax").outcome(), v1::OUTCOME_FAILED);
}

TEST_F(MiddleAutoAnswerTest, EachTenantAnswersFromItsOwnCopiesOnly) {
  // The same symbol bytes and person number at another tenant, with other content.
  ASSERT_TRUE(store_->Bind("MUN-401307", "P-1", "SYMBOL-OF-P1").ok());
  ASSERT_TRUE(store_
                  ->Register("MUN-401307", Copy{"P-1", "local-tax", "the other town's tax",
                                                "2026-04-01", false, 0})
                  .ok());
  EXPECT_EQ(Ask("MUN-401307", "SYMBOL-OF-P1", "local-tax").payload(), "the other town's tax");
  EXPECT_EQ(Ask(kMun, "SYMBOL-OF-P1", "local-tax").payload(), "tax 120,000");
  ASSERT_TRUE(store_->DestroyTenant("MUN-401307").ok());
  EXPECT_EQ(Ask(kMun, "SYMBOL-OF-P1", "local-tax").payload(), "tax 120,000");
  EXPECT_EQ(Ask("MUN-401307", "SYMBOL-OF-P1", "local-tax").outcome(), v1::OUTCOME_FAILED);
}

// An item the tenant answers by hand reaches the platform only while its own system is
// away: the copies are not the answer (a copy registered anyway is not given out, and
// "not held" could be false), so it fails; other items are answered as before.
TEST_F(MiddleAutoAnswerTest, AnItemAnsweredByHandIsNotAnsweredFromCopies) {
  ASSERT_TRUE(store_->SetByHandItems(kMun, {"local-tax"}).ok());
  EXPECT_EQ(store_->ByHandItems(kMun).value(), std::set<std::string>{"local-tax"});
  EXPECT_TRUE(store_->ByHandItems("MUN-401307").value().empty());
  v1::AgencyAnswer a = Ask(kMun, "SYMBOL-OF-P1", "local-tax");
  EXPECT_EQ(a.outcome(), v1::OUTCOME_FAILED);
  EXPECT_TRUE(a.payload().empty());
  EXPECT_EQ(Ask(kMun, "SYMBOL-OF-P1", "residence").outcome(), v1::OUTCOME_NOT_HELD);
  ASSERT_TRUE(store_->SetByHandItems(kMun, {}).ok());
  EXPECT_EQ(Ask(kMun, "SYMBOL-OF-P1", "local-tax").payload(), "tax 120,000");
  // A bad item code or too many change nothing.
  ASSERT_TRUE(store_->SetByHandItems(kMun, {"residence"}).ok());
  EXPECT_EQ(store_->SetByHandItems(kMun, {"bad item"}).code(), Status::Code::kInvalidArgument);
  std::set<std::string> many;
  for (size_t i = 0; i <= kMaxByHandItems; ++i) many.insert("item-" + std::to_string(i));
  EXPECT_EQ(store_->SetByHandItems(kMun, many).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->ByHandItems(kMun).value(), std::set<std::string>{"residence"});
}

}  // namespace
}  // namespace ipn::middle
