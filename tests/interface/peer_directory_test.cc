// PeerDirectory: only vouched peers are known, and answers sealed to a peer open only
// there, unaltered.
#include "interface/peer_directory.h"

#include <gtest/gtest.h>

#include "tests/interface/peer_node.h"

namespace ipn::interface {
namespace {

using testing::Peer;

TEST(PeerDirectoryTest, AnswersSealedToAPeerOpenThereOnly) {
  CurveKeyPair a = CurveKeyPair::Generate(), b = CurveKeyPair::Generate(),
               c = CurveKeyPair::Generate();
  PeerDirectory at_a(&a), at_b(&b), at_c(&c);
  ASSERT_TRUE(at_a.Vouch(Peer("B", b)).ok());
  ASSERT_TRUE(at_b.Vouch(Peer("A", a)).ok());
  ASSERT_TRUE(at_c.Vouch(Peer("A", a)).ok());

  std::string nonce, sealed, plain;
  ASSERT_TRUE(at_a.Seal("B", "taxable income 3,120,000 JPY", &nonce, &sealed).ok());
  EXPECT_EQ(sealed.find("taxable"), std::string::npos);
  ASSERT_TRUE(at_b.Open("A", nonce, sealed, &plain).ok());
  EXPECT_EQ(plain, "taxable income 3,120,000 JPY");
  // Another node cannot open it, and any altered byte is refused.
  EXPECT_FALSE(at_c.Open("A", nonce, sealed, &plain).ok());
  std::string altered = sealed;
  altered[3] ^= 1;
  EXPECT_EQ(at_b.Open("A", nonce, altered, &plain).code(), Status::Code::kCorruption);
  EXPECT_EQ(at_b.Open("Z", nonce, sealed, &plain).code(), Status::Code::kNotFound);
}

TEST(PeerDirectoryTest, OnlyVouchedKeysAreAdmittedAndWelcomeReplacesTheSet) {
  CurveKeyPair own = CurveKeyPair::Generate(), b = CurveKeyPair::Generate(),
               d = CurveKeyPair::Generate();
  PeerDirectory dir(&own);
  EXPECT_FALSE(dir.AgencyOfKey(b.public_key).has_value());
  v1::Welcome w;
  *w.add_peers() = Peer("B", b);
  dir.ReplaceAll(w);
  EXPECT_EQ(dir.AgencyOfKey(b.public_key), "B");
  v1::Welcome w2;
  *w2.add_peers() = Peer("D", d);
  dir.ReplaceAll(w2);
  EXPECT_FALSE(dir.AgencyOfKey(b.public_key).has_value());
  EXPECT_EQ(dir.AgencyOfKey(d.public_key), "D");
  v1::PeerNode bad;
  bad.set_agency_code("E");
  bad.set_curve_public_key("short");
  EXPECT_FALSE(dir.Vouch(bad).ok());
}

}  // namespace
}  // namespace ipn::interface
