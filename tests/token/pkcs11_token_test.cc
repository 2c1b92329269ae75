// Pkcs11Token against a real SoftHSM2 token in the test's own directory.
#include "token/pkcs11_token.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>

#include "tests/support/softhsm.h"
#include "tests/support/temp_dir.h"

namespace ipn::token {
namespace {

using ipn::testing::kTestTokenPin;

class Pkcs11TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sodium_init() >= 0, true);
    ASSERT_TRUE(hsm_.InitToken("core-east"));
  }
  std::shared_ptr<Pkcs11Token> OpenToken(const std::string& label = "core-east") {
    auto token = Pkcs11Token::Open({kSoftHsmModule, label}, kTestTokenPin);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? *token : nullptr;
  }
  static std::span<const uint8_t> Bytes(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  }
  ipn::testing::TempDir dir_;
  ipn::testing::SoftHsm hsm_{dir_};
};

TEST_F(Pkcs11TokenTest, AKeyGeneratedInTheTokenSignsAndNeverLeavesIt) {
  auto token = OpenToken();
  ASSERT_NE(token, nullptr);
  auto public_key = token->GenerateEd25519("operator-alice");
  ASSERT_TRUE(public_key.ok()) << public_key.status().ToString();
  const std::string message = "ipn/policy-approval/v1 load-policy-bundle";
  auto signature = token->SignEd25519("operator-alice", Bytes(message));
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_EQ(crypto_sign_verify_detached(signature->data(), Bytes(message).data(), message.size(),
                                        public_key->data()),
            0);
  // Another message's signature does not verify this one.
  auto other = token->SignEd25519("operator-alice", Bytes("something else"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(crypto_sign_verify_detached(other->data(), Bytes(message).data(), message.size(),
                                        public_key->data()),
            0);
  auto objects = token->List();
  ASSERT_TRUE(objects.ok());
  auto secret = std::find_if(objects->begin(), objects->end(),
                             [](const TokenObject& o) { return o.kind == "ed25519-private"; });
  ASSERT_NE(secret, objects->end());
  EXPECT_EQ(secret->label, "operator-alice");
  EXPECT_TRUE(secret->sensitive);
  EXPECT_FALSE(secret->extractable);
  EXPECT_FALSE(secret->public_key.has_value());
}

TEST_F(Pkcs11TokenTest, AnImportedKeySignsExactlyAsLibsodiumDoes) {
  auto token = OpenToken();
  ASSERT_NE(token, nullptr);
  SecretBytes secret(crypto_sign_SECRETKEYBYTES);
  Ed25519PublicKey expected_public;
  crypto_sign_keypair(expected_public.data(), secret.data());
  auto imported = token->ImportEd25519(kDefaultRecordsSigningLabel, secret);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(*imported, expected_public);
  auto found = token->FindEd25519(kDefaultRecordsSigningLabel);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, expected_public);

  auto signer = token->MakeSigner(kDefaultRecordsSigningLabel);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  const std::string message = "ipn/records/tree-head/v1 size 42";
  auto from_token = (*signer)->Sign(Bytes(message));
  ASSERT_TRUE(from_token.ok());
  Ed25519Signature from_sodium;
  crypto_sign_detached(from_sodium.data(), nullptr, Bytes(message).data(), message.size(),
                       secret.data());
  EXPECT_EQ(*from_token, from_sodium);  // Ed25519 is deterministic: the same bytes exactly
  EXPECT_EQ((*signer)->public_key(), expected_public);

  auto again = token->ImportEd25519(kDefaultRecordsSigningLabel, secret);
  EXPECT_EQ(again.status().code(), Status::Code::kAlreadyExists);
}

TEST_F(Pkcs11TokenTest, AWrongPinIsRefusedWithAClearMessage) {
  auto token = Pkcs11Token::Open({kSoftHsmModule, "core-east"}, "0000");
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(token.status().message().find("PIN for token 'core-east' is wrong"), std::string::npos)
      << token.status().ToString();
}

// PKCS#11 login state belongs to the process: a module answers "already logged in" before
// it looks at the PIN, so a second open of an open token is refused, never let through.
TEST_F(Pkcs11TokenTest, ASecondOpenOfAnOpenTokenIsRefusedWhateverThePin) {
  auto first = OpenToken();
  ASSERT_NE(first, nullptr);
  for (const char* pin : {"0000", kTestTokenPin}) {
    auto second = Pkcs11Token::Open({kSoftHsmModule, "core-east"}, pin);
    ASSERT_FALSE(second.ok()) << pin;
    EXPECT_EQ(second.status().code(), Status::Code::kFailedPrecondition);
    EXPECT_NE(second.status().message().find("already open in this process"), std::string::npos);
  }
  first.reset();  // the last session closed: logged out, and a fresh open checks the PIN
  EXPECT_EQ(Pkcs11Token::Open({kSoftHsmModule, "core-east"}, "0000").status().code(),
            Status::Code::kPermissionDenied);
  EXPECT_TRUE(Pkcs11Token::Open({kSoftHsmModule, "core-east"}, kTestTokenPin).ok());
}

TEST_F(Pkcs11TokenTest, AnAbsentTokenIsNamedWithTheTokensPresent) {
  auto token = Pkcs11Token::Open({kSoftHsmModule, "core-west"}, kTestTokenPin);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), Status::Code::kNotFound);
  EXPECT_NE(token.status().message().find("no PKCS#11 token labelled 'core-west'"),
            std::string::npos);
  EXPECT_NE(token.status().message().find("tokens present: core-east"), std::string::npos)
      << token.status().ToString();

  auto no_module = Pkcs11Token::Open({dir_.Sub("no-such-module.so"), "core-east"}, kTestTokenPin);
  ASSERT_FALSE(no_module.ok());
  EXPECT_EQ(no_module.status().code(), Status::Code::kNotFound);
  EXPECT_NE(no_module.status().message().find("cannot load the PKCS#11 module"), std::string::npos);
}

TEST_F(Pkcs11TokenTest, AKeyWrappedByTheTokensKekUnwrapsOnlyThere) {
  ASSERT_TRUE(hsm_.InitToken("core-west"));
  auto east = OpenToken("core-east");
  auto west = OpenToken("core-west");
  ASSERT_NE(east, nullptr);
  ASSERT_NE(west, nullptr);
  ASSERT_TRUE(east->GenerateKek(kDefaultKekLabel).ok());
  ASSERT_TRUE(west->GenerateKek(kDefaultKekLabel).ok());
  EXPECT_EQ(east->GenerateKek(kDefaultKekLabel).code(), Status::Code::kAlreadyExists);

  SecretBytes data_key = SecretBytes::Random(32);
  auto wrapped = east->WrapKey(kDefaultKekLabel, data_key);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  ASSERT_EQ(wrapped->size(), 40u);  // RFC 3394: one more 8-byte block
  std::span<const uint8_t> w(reinterpret_cast<const uint8_t*>(wrapped->data()), wrapped->size());
  EXPECT_EQ(std::search(w.begin(), w.end(), data_key.span().begin(), data_key.span().end()),
            w.end());

  auto unwrapped = east->UnwrapKey(kDefaultKekLabel, w);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_TRUE(std::equal(unwrapped->span().begin(), unwrapped->span().end(),
                         data_key.span().begin(), data_key.span().end()));

  auto elsewhere = west->UnwrapKey(kDefaultKekLabel, w);
  EXPECT_EQ(elsewhere.status().code(), Status::Code::kPermissionDenied)
      << elsewhere.status().ToString();
  std::string altered = *wrapped;
  altered[17] ^= 1;
  auto tampered = east->UnwrapKey(
      kDefaultKekLabel,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(altered.data()), altered.size()));
  EXPECT_EQ(tampered.status().code(), Status::Code::kPermissionDenied);

  auto objects = east->List();
  ASSERT_TRUE(objects.ok());
  // Only the KEK remains: the data key was a session object, destroyed after each use.
  ASSERT_EQ(objects->size(), 1u);
  EXPECT_EQ((*objects)[0].kind, "aes-kek");
  EXPECT_TRUE((*objects)[0].sensitive);
  EXPECT_FALSE((*objects)[0].extractable);
}

TEST_F(Pkcs11TokenTest, AMissingKeyIsNotFound) {
  auto token = OpenToken();
  ASSERT_NE(token, nullptr);
  EXPECT_EQ(token->MakeSigner("nobody").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(token->MakeWrapper("no-kek").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(token->SignEd25519("nobody", {}).status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace ipn::token
