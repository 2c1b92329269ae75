// Signed bundle files and administrator key files.
#include "policy/bundle.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/encoding.h"
#include "common/file_util.h"
#include "ipn/v1/policy.pb.h"
#include "tests/policy/policy_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::policy {
namespace {

using testing::Contains;

TEST(PolicyBundleTest, SignThenVerifyReturnsTheSignedBytes) {
  AdminKeyPair admin = GenerateAdminKeyPair();
  auto compiled = CompilePolicy(DemoPolicySource(), 3);
  ASSERT_TRUE(compiled.ok());
  auto signed_bundle = SignBundle(*compiled, admin.secret_key.span());
  ASSERT_TRUE(signed_bundle.ok()) << signed_bundle.status().ToString();
  auto inner = VerifyBundle(*signed_bundle, admin.public_key);
  ASSERT_TRUE(inner.ok()) << inner.status().ToString();
  auto policy = Policy::FromBundleBytes(*inner);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ((*policy)->version(), 3u);

  ipn::v1::SignedPolicyBundle file;
  ASSERT_TRUE(file.ParseFromArray(signed_bundle->data(), static_cast<int>(signed_bundle->size())));
  EXPECT_EQ(file.signature().size(), 64u);
  EXPECT_EQ(HexEncode(AsBytes(file.signer_public_key())), HexEncode(admin.public_key));
}

TEST(PolicyBundleTest, VerifyRefusesUnsignedWrongKeyAndTampered) {
  AdminKeyPair admin = GenerateAdminKeyPair();
  AdminKeyPair other = GenerateAdminKeyPair();
  auto compiled = CompilePolicy(DemoPolicySource(), 3);
  ASSERT_TRUE(compiled.ok());

  auto unsigned_result = VerifyBundle(*compiled, admin.public_key);
  ASSERT_FALSE(unsigned_result.ok());
  EXPECT_EQ(unsigned_result.status().code(), Status::Code::kPermissionDenied);
  EXPECT_TRUE(Contains(unsigned_result.status().message(), "not signed"));

  auto by_other = SignBundle(*compiled, other.secret_key.span());
  ASSERT_TRUE(by_other.ok());
  auto wrong = VerifyBundle(*by_other, admin.public_key);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Status::Code::kPermissionDenied);
  EXPECT_TRUE(Contains(wrong.status().message(), HexEncode(other.public_key)))
      << wrong.status().message();

  // Re-signing replaces the old signature.
  auto resigned = SignBundle(*by_other, admin.secret_key.span());
  ASSERT_TRUE(resigned.ok());
  EXPECT_TRUE(VerifyBundle(*resigned, admin.public_key).ok());

  // Alter one byte of the signed policy.
  ipn::v1::SignedPolicyBundle file;
  ASSERT_TRUE(file.ParseFromArray(resigned->data(), static_cast<int>(resigned->size())));
  std::string tampered_bytes = file.bundle();
  tampered_bytes[tampered_bytes.size() / 2] ^= 0x01;
  file.set_bundle(tampered_bytes);
  std::string tampered = file.SerializeAsString();
  auto result = VerifyBundle(AsBytes(tampered), admin.public_key);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Status::Code::kPermissionDenied);

  for (const std::string& junk :
       {std::string(), std::string("not a bundle at all"), std::string("\x0a\x03xyz", 5)}) {
    auto r = VerifyBundle(AsBytes(junk), admin.public_key);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_FALSE(SignBundle(AsBytes(junk), admin.secret_key.span()).ok());
  }
  EXPECT_FALSE(SignBundle(*compiled, std::span<const uint8_t>(admin.public_key)).ok());
}

TEST(PolicyBundleTest, KeyFilesRoundTripAndAreNotOverwritten) {
  ipn::testing::TempDir dir;
  AdminKeyPair admin = GenerateAdminKeyPair();
  ASSERT_TRUE(WriteAdminKeyPair(admin, dir.Sub("admin.key"), dir.Sub("admin.pub")).ok());
  struct stat st {};
  ASSERT_EQ(::stat(dir.Sub("admin.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto secret = ReadAdminSecretKey(dir.Sub("admin.key"));
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  ASSERT_EQ(secret->size(), 64u);
  EXPECT_EQ(HexEncode(secret->span()), HexEncode(admin.secret_key.span()));
  auto pub = ReadAdminPublicKey(dir.Sub("admin.pub"));
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(*pub, admin.public_key);

  AdminKeyPair again = GenerateAdminKeyPair();
  Status overwrite = WriteAdminKeyPair(again, dir.Sub("admin.key"), dir.Sub("other.pub"));
  EXPECT_EQ(overwrite.code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(HexEncode(ReadAdminSecretKey(dir.Sub("admin.key"))->span()),
            HexEncode(admin.secret_key.span()));  // unchanged
}

TEST(PolicyBundleTest, MalformedKeyFilesAreRefused) {
  ipn::testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("short.key"), std::string(64, 'a')).ok());
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("junk.key"), std::string(128, 'a') + "zz\n").ok());
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("bad.pub"), std::string("hello\n")).ok());
  EXPECT_EQ(ReadAdminSecretKey(dir.Sub("short.key")).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(ReadAdminSecretKey(dir.Sub("junk.key")).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(ReadAdminPublicKey(dir.Sub("bad.pub")).status().code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(ReadAdminPublicKey(dir.Sub("missing.pub")).ok());
  // The error never quotes the secret file's contents.
  auto r = ReadAdminSecretKey(dir.Sub("junk.key"));
  EXPECT_FALSE(Contains(r.status().message(), std::string(16, 'a')));
}

}  // namespace
}  // namespace ipn::policy
