// Cards: issued into a SoftHSM2 token by a real issuer (X.509 through OpenSSL), used by
// the local card application with its PIN, checked as the portal checks them.
#include "card/card.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>

#include "common/file_util.h"
#ifdef IPN_CARD_TEST_WITH_PORTAL
#include "portal/card_trust.h"
#endif
#include "tests/support/softhsm.h"
#include "tests/support/temp_dir.h"

namespace ipn::card {
namespace {

constexpr int64_t kNow = 1'796'000'000;  // 2026-11-30
constexpr char kOrigin[] = "http://127.0.0.1:8443";
constexpr char kPin[] = "1234";

class CardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    // Every card token first: SoftHSM2 sees only the tokens present when it is loaded.
    for (const char* label : {"card-1", "card-2", "card-rogue"}) {
      ASSERT_TRUE(hsm_.InitToken(label, kPin));
    }
    ASSERT_TRUE(CardIssuer::Init(issuer_dir_, "IPN card issuer (test)", kNow).ok());
    auto issuer = CardIssuer::Open(issuer_dir_);
    ASSERT_TRUE(issuer.ok()) << issuer.status().ToString();
    issuer_ = std::move(*issuer);
    randombytes_buf(challenge_.data(), challenge_.size());
  }
  // Issues the (blank) card token `label` by `issuer`; returns its serial.
  std::string IssueCard(const std::string& label, CardIssuer& issuer) {
    auto card = token::Pkcs11Token::Open({token::kSoftHsmModule, label}, kPin);
    EXPECT_TRUE(card.ok()) << card.status().ToString();
    if (!card.ok()) return "";
    auto serial = issuer.Issue(**card, kNow);
    EXPECT_TRUE(serial.ok()) << serial.status().ToString();
    return serial.ok() ? *serial : "";
  }
  std::unique_ptr<CardVerifier> Verifier(const std::string& dir) {
    auto v =
        CardVerifier::Load(CardIssuer::CertificatePath(dir), CardIssuer::RevocationListPath(dir));
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(*v) : nullptr;
  }
  Result<CardSignature> Sign(const std::string& label, const std::string& pin = kPin,
                             const std::string& origin = kOrigin) {
    return SignWithCard({token::kSoftHsmModule, label}, pin, origin, challenge_);
  }

  ipn::testing::TempDir tmp_;
  ipn::testing::SoftHsm hsm_{tmp_};
  std::string issuer_dir_ = tmp_.Sub("issuer");
  std::unique_ptr<CardIssuer> issuer_;
  std::array<uint8_t, 32> challenge_{};
};

TEST_F(CardTest, AnIssuedCardSignsAChallengeThePortalAccepts) {
  const std::string serial = IssueCard("card-1", *issuer_);
  ASSERT_EQ(serial.size(), 32u);
  auto signed_ = Sign("card-1");
  ASSERT_TRUE(signed_.ok()) << signed_.status().ToString();
  auto verifier = Verifier(issuer_dir_);
  ASSERT_NE(verifier, nullptr);
  auto accepted = verifier->Verify(*signed_, kOrigin, challenge_, kNow + 60);
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(*accepted, serial);
  // The certificate names the card, nobody's person: its only subject is the serial.
  EXPECT_NE(signed_->certificate_der.find("IPN card " + serial), std::string::npos);
  ASSERT_EQ(issuer_->cards().size(), 1u);
  EXPECT_FALSE(issuer_->cards()[0].revoked);
}

TEST_F(CardTest, TheCardsKeyNeverLeavesIt) {
  IssueCard("card-1", *issuer_);
  auto card = token::Pkcs11Token::Open({token::kSoftHsmModule, "card-1"}, kPin);
  ASSERT_TRUE(card.ok());
  auto objects = (*card)->List();
  ASSERT_TRUE(objects.ok());
  auto key = std::find_if(objects->begin(), objects->end(), [](const token::TokenObject& o) {
    return o.kind == "ed25519-private" && o.label == kCardKeyLabel;
  });
  ASSERT_NE(key, objects->end());
  EXPECT_TRUE(key->sensitive);
  EXPECT_FALSE(key->extractable);
}

TEST_F(CardTest, ARevokedCardIsRefused) {
  const std::string serial = IssueCard("card-1", *issuer_);
  const std::string other = IssueCard("card-2", *issuer_);
  ASSERT_TRUE(issuer_->Revoke(serial, kNow + 10).ok());
  auto verifier = Verifier(issuer_dir_);
  ASSERT_NE(verifier, nullptr);
  auto signed_ = Sign("card-1");
  ASSERT_TRUE(signed_.ok());
  auto refused = verifier->Verify(*signed_, kOrigin, challenge_, kNow + 60);
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(refused.status().message(), "the card has been revoked");
  auto still = Sign("card-2");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(verifier->Verify(*still, kOrigin, challenge_, kNow + 60).value(), other);
  // The register remembers; a reopened issuer still lists the card as revoked.
  auto reopened = CardIssuer::Open(issuer_dir_);
  ASSERT_TRUE(reopened.ok());
  ASSERT_EQ((*reopened)->cards().size(), 2u);
  EXPECT_TRUE((*reopened)->cards()[0].revoked);
  EXPECT_EQ((*reopened)->cards()[0].revoked_s, kNow + 10);
  EXPECT_EQ(issuer_->Revoke("00ff", kNow).code(), Status::Code::kNotFound);
}

TEST_F(CardTest, ACardOfAnotherIssuerIsRefused) {
  const std::string rogue_dir = tmp_.Sub("rogue");
  ASSERT_TRUE(CardIssuer::Init(rogue_dir, "IPN card issuer (test)", kNow).ok());  // same name
  auto rogue = CardIssuer::Open(rogue_dir);
  ASSERT_TRUE(rogue.ok());
  IssueCard("card-rogue", **rogue);
  auto signed_ = Sign("card-rogue");
  ASSERT_TRUE(signed_.ok());
  auto verifier = Verifier(issuer_dir_);
  ASSERT_NE(verifier, nullptr);
  auto refused = verifier->Verify(*signed_, kOrigin, challenge_, kNow + 60);
  EXPECT_EQ(refused.status().message(),
            "the card was not issued by the card issuer this portal trusts");
  // Nor does the rogue issuer's revocation list load against the pinned certificate.
  auto mixed = CardVerifier::Load(CardIssuer::CertificatePath(issuer_dir_),
                                  CardIssuer::RevocationListPath(rogue_dir));
  EXPECT_EQ(mixed.status().code(), Status::Code::kPermissionDenied);
}

TEST_F(CardTest, ASignatureForAnotherOriginOrChallengeIsRefused) {
  IssueCard("card-1", *issuer_);
  auto verifier = Verifier(issuer_dir_);
  ASSERT_NE(verifier, nullptr);
  auto phished = Sign("card-1", kPin, "http://127.0.0.1:9999");
  ASSERT_TRUE(phished.ok());
  EXPECT_EQ(verifier->Verify(*phished, kOrigin, challenge_, kNow + 60).status().message(),
            "the card's signature is not for this site and challenge");
  auto signed_ = Sign("card-1");
  ASSERT_TRUE(signed_.ok());
  std::array<uint8_t, 32> other = challenge_;
  other[0] ^= 1;
  EXPECT_FALSE(verifier->Verify(*signed_, kOrigin, other, kNow + 60).ok());
  CardSignature altered = *signed_;
  altered.certificate_der[altered.certificate_der.size() / 2] ^= 1;
  EXPECT_FALSE(verifier->Verify(altered, kOrigin, challenge_, kNow + 60).ok());
}

TEST_F(CardTest, TheCardLocksAfterThreeWrongPins) {
  IssueCard("card-1", *issuer_);
  IssueCard("card-2", *issuer_);
  // Two wrong, then the right one: the count starts again.
  EXPECT_EQ(Sign("card-2", "0000").status().message(),
            "wrong PIN (2 tries left before the card locks)");
  EXPECT_EQ(Sign("card-2", "0000").status().message(),
            "wrong PIN (1 tries left before the card locks)");
  EXPECT_TRUE(Sign("card-2").ok());
  EXPECT_EQ(Sign("card-2", "0000").status().message(),
            "wrong PIN (2 tries left before the card locks)");
  // Three wrong in a row: locked, and the right PIN no longer helps.
  EXPECT_FALSE(Sign("card-1", "9999").ok());
  EXPECT_FALSE(Sign("card-1", "9999").ok());
  EXPECT_EQ(Sign("card-1", "9999").status().message(), "wrong PIN; the card is now locked");
  auto locked = Sign("card-1");
  EXPECT_EQ(locked.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(locked.status().message().find("the card is locked after 3 wrong PINs"),
            std::string::npos);
}

TEST_F(CardTest, AnExpiredCardIsRefused) {
  auto card = token::Pkcs11Token::Open({token::kSoftHsmModule, "card-1"}, kPin);
  ASSERT_TRUE(card.ok());
  ASSERT_TRUE(issuer_->Issue(**card, kNow, /*valid_days=*/1).ok());
  card->reset();
  auto signed_ = Sign("card-1");
  ASSERT_TRUE(signed_.ok()) << signed_.status().ToString();
  auto verifier = Verifier(issuer_dir_);
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(verifier->Verify(*signed_, kOrigin, challenge_, kNow + 3600).ok());
  EXPECT_EQ(verifier->Verify(*signed_, kOrigin, challenge_, kNow + 2 * 86400).status().message(),
            "the card's certificate is not valid now (expired or not yet valid)");
  EXPECT_FALSE(verifier->Verify(*signed_, kOrigin, challenge_, kNow - 60).ok());  // not yet
}

TEST_F(CardTest, AnOutOfDateRevocationListFailsClosed) {
  IssueCard("card-1", *issuer_);
  auto verifier = Verifier(issuer_dir_);
  ASSERT_NE(verifier, nullptr);
  auto signed_ = Sign("card-1");
  ASSERT_TRUE(signed_.ok());
  EXPECT_TRUE(verifier->Verify(*signed_, kOrigin, challenge_, kNow + 6 * 86400).ok());
  auto stale = verifier->Verify(*signed_, kOrigin, challenge_, kNow + 8 * 86400);
  EXPECT_EQ(stale.status().message(),
            "the card revocation list is out of date; cards cannot be checked");
  ASSERT_TRUE(issuer_->PublishRevocations(kNow + 8 * 86400).ok());
  EXPECT_TRUE(Verifier(issuer_dir_)->Verify(*signed_, kOrigin, challenge_, kNow + 8 * 86400).ok());
}

#ifdef IPN_CARD_TEST_WITH_PORTAL
// The portal's view over time (portal::CardTrust): a card revoked after its holder logged
// in fails the check an open session makes, and a revocation list swapped back for an
// older one — which would hide that revocation — refuses every card.
TEST_F(CardTest, ARevocationEndsSessionsAndARolledBackListRefusesEveryCard) {
  const std::string serial = IssueCard("card-1", *issuer_);
  const std::string other = IssueCard("card-2", *issuer_);
  const std::string list = CardIssuer::RevocationListPath(issuer_dir_);
  Result<std::string> before = ReadFile(list);
  ASSERT_TRUE(before.ok());
  const std::string seen = tmp_.Sub("crl_seen");
  auto trust = portal::CardTrust::Load(CardIssuer::CertificatePath(issuer_dir_), list, seen);
  ASSERT_TRUE(trust.ok()) << trust.status().ToString();
  EXPECT_TRUE((*trust)->CheckCard(serial, kNow + 60).ok());

  ASSERT_TRUE(issuer_->Revoke(serial, kNow + 10).ok());
  Status revoked = (*trust)->CheckCard(serial, kNow + 60);
  EXPECT_EQ(revoked.code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(revoked.message(), "the card has been revoked");
  EXPECT_TRUE((*trust)->CheckCard(other, kNow + 60).ok());
  EXPECT_EQ((*trust)->CheckCard(other, kNow + 8 * 86400).message(),
            "the card revocation list is out of date; cards cannot be checked");

  ASSERT_TRUE(WriteFileAtomic(list, *before).ok());  // the list from before the revocation
  Status rolled_back = (*trust)->CheckCard(serial, kNow + 60);
  EXPECT_EQ(rolled_back.code(), Status::Code::kPermissionDenied);
  EXPECT_NE(rolled_back.message().find("replaced by an older one"), std::string::npos)
      << rolled_back.message();
  auto signed_ = Sign("card-2");
  ASSERT_TRUE(signed_.ok());
  EXPECT_EQ((*trust)->Verify(*signed_, kOrigin, challenge_, kNow + 60).status().code(),
            Status::Code::kPermissionDenied);
  // A portal restarted on the old list refuses to start: it remembers the newer one.
  EXPECT_FALSE(portal::CardTrust::Load(CardIssuer::CertificatePath(issuer_dir_), list, seen).ok());
  // The issuer publishes a current list: cards are checked again.
  ASSERT_TRUE(issuer_->PublishRevocations(kNow + 20).ok());
  EXPECT_TRUE((*trust)->CheckCard(other, kNow + 60).ok());
  EXPECT_EQ((*trust)->CheckCard(serial, kNow + 60).message(), "the card has been revoked");
}
#endif

}  // namespace
}  // namespace ipn::card
