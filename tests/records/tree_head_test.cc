// Signed tree heads: signatures verify, and fail for any change or another key.
#include "records/tree_head.h"

#include <gtest/gtest.h>

#include "records/key_file.h"

namespace ipn::records {
namespace {

TEST(TreeHeadTest, SignatureVerifiesAndDetectsEveryChange) {
  RecordKeys keys = GenerateRecordKeys();
  Result<PublicKey> pk = SigningPublicKey(keys.signing_secret_key.span());
  ASSERT_TRUE(pk.ok());
  Hash root{};
  root[0] = 7;
  SignedTreeHead head = SignTreeHead(42, root, 1700000000000000, keys.signing_secret_key.span());
  EXPECT_EQ(head.signer, *pk);
  EXPECT_TRUE(VerifyTreeHeadSignature(head, *pk));

  SignedTreeHead changed = head;
  changed.tree_size = 43;
  EXPECT_FALSE(VerifyTreeHeadSignature(changed, *pk));
  changed = head;
  changed.root_hash[31] ^= 1;
  EXPECT_FALSE(VerifyTreeHeadSignature(changed, *pk));
  changed = head;
  changed.timestamp_us += 1;
  EXPECT_FALSE(VerifyTreeHeadSignature(changed, *pk));

  // A head forged with another key is refused even though its own signature is valid.
  RecordKeys other = GenerateRecordKeys();
  SignedTreeHead forged =
      SignTreeHead(42, root, head.timestamp_us, other.signing_secret_key.span());
  EXPECT_FALSE(VerifyTreeHeadSignature(forged, *pk));
  forged.signer = *pk;
  EXPECT_FALSE(VerifyTreeHeadSignature(forged, *pk));
}

TEST(TreeHeadTest, EncodingRoundTripsAndRejectsMalformedBytes) {
  RecordKeys keys = GenerateRecordKeys();
  Hash root{};
  root[3] = 9;
  SignedTreeHead head = SignTreeHead(1u << 20, root, 123456789, keys.signing_secret_key.span());
  Result<SignedTreeHead> decoded = DecodeTreeHead(EncodeTreeHead(head));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, head);
  std::string bytes = EncodeTreeHead(head);
  EXPECT_EQ(DecodeTreeHead(bytes.substr(1)).status().code(), Status::Code::kCorruption);
  bytes[0] = 2;
  EXPECT_FALSE(DecodeTreeHead(bytes).ok());
}

TEST(TreeHeadTest, MalformedSigningKeysAreRefused) {
  EXPECT_FALSE(SigningPublicKey(SecretBytes::Random(32).span()).ok());
  // A 64-byte key whose public half does not belong to its seed.
  RecordKeys keys = GenerateRecordKeys();
  keys.signing_secret_key.data()[40] ^= 1;
  EXPECT_EQ(SigningPublicKey(keys.signing_secret_key.span()).status().code(),
            Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace ipn::records
