// The portal's trust document (portal/trust_document.h): what the page pins its keys from.
// Signed and read back with every kind of key; another signer, a changed text and
// malformed documents are refused with the reason.
#include "portal/trust_document.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/secret.h"

namespace ipn::portal {
namespace {

struct Root {
  records::PublicKey public_key{};
  SecretBytes secret{crypto_sign_SECRETKEYBYTES};
  Root() { crypto_sign_keypair(public_key.data(), secret.data()); }
};

records::PublicKey KeyOf(uint8_t fill) {
  records::PublicKey k{};
  k.fill(fill);
  return k;
}

TrustDocument Sample() {
  TrustDocument doc;
  doc.version = 7;
  doc.issued_unix_us = 1'790'000'000'000'000;  // whole seconds: the text keeps seconds
  doc.records_keys = {KeyOf(1)};
  doc.witness_keys = {KeyOf(2), KeyOf(3)};
  doc.policy_keys = {KeyOf(4)};
  return doc;
}

// Signs `text` as a trust root would, for documents SignTrustDocument would not write.
std::string SignText(const std::string& text, const Root& root) {
  const std::string input = "ipn/portal/trust/v1\n" + text;
  std::array<uint8_t, 64> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const uint8_t*>(input.data()),
                       input.size(), root.secret.data());
  nlohmann::json j = {
      {"text", text}, {"signer", HexEncode(root.public_key)}, {"signature", HexEncode(sig)}};
  return j.dump();
}

TEST(TrustDocumentTest, ASignedDocumentReadsBackWithEveryKey) {
  Root root;
  Result<std::string> json = SignTrustDocument(Sample(), root.secret.span());
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  const std::vector<records::PublicKey> roots = {KeyOf(9), root.public_key};
  Result<TrustDocument> doc = VerifyTrustDocument(*json, roots);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->version, 7u);
  EXPECT_EQ(doc->issued_unix_us, 1'790'000'000'000'000);
  EXPECT_EQ(doc->records_keys, Sample().records_keys);
  EXPECT_EQ(doc->witness_keys, Sample().witness_keys);
  EXPECT_EQ(doc->policy_keys, Sample().policy_keys);
  // The exact lines a page reads.
  const std::string text = nlohmann::json::parse(*json)["text"];
  EXPECT_NE(text.find("\npolicy_key " + HexEncode(KeyOf(4)) + "\n"), std::string::npos) << text;
}

TEST(TrustDocumentTest, ADocumentWithoutPolicyKeysStillReads) {
  Root root;
  TrustDocument older = Sample();
  older.policy_keys.clear();
  Result<std::string> json = SignTrustDocument(older, root.secret.span());
  ASSERT_TRUE(json.ok());
  const std::vector<records::PublicKey> roots = {root.public_key};
  Result<TrustDocument> doc = VerifyTrustDocument(*json, roots);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_TRUE(doc->policy_keys.empty());
  EXPECT_EQ(doc->records_keys.size(), 1u);
}

TEST(TrustDocumentTest, AnotherSignerIsRefusedByName) {
  Root root, other;
  Result<std::string> json = SignTrustDocument(Sample(), other.secret.span());
  ASSERT_TRUE(json.ok());
  const std::vector<records::PublicKey> roots = {root.public_key};
  Result<TrustDocument> doc = VerifyTrustDocument(*json, roots);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(doc.status().message().find(HexEncode(other.public_key)), std::string::npos)
      << doc.status().message();
}

TEST(TrustDocumentTest, AChangedKeyBreaksTheSignature) {
  Root root;
  Result<std::string> json = SignTrustDocument(Sample(), root.secret.span());
  ASSERT_TRUE(json.ok());
  nlohmann::json j = nlohmann::json::parse(*json);
  std::string text = j["text"];
  const std::string policy = HexEncode(KeyOf(4));
  text.replace(text.find(policy), policy.size(), HexEncode(KeyOf(5)));  // a lying portal's key
  j["text"] = text;
  const std::vector<records::PublicKey> roots = {root.public_key};
  Result<TrustDocument> doc = VerifyTrustDocument(j.dump(), roots);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(doc.status().message(), "the trust document's signature is not valid");
}

TEST(TrustDocumentTest, MalformedDocumentsAreInvalidArguments) {
  Root root;
  const std::vector<records::PublicKey> roots = {root.public_key};
  for (const std::string bad : {"", "[]", "{\"text\":1,\"signer\":\"\",\"signature\":\"\"}",
                                "{\"text\":\"ipn-trust v1\\n\",\"signer\":\"00\"}"}) {
    Result<TrustDocument> doc = VerifyTrustDocument(bad, roots);
    ASSERT_FALSE(doc.ok()) << bad;
    EXPECT_EQ(doc.status().code(), Status::Code::kInvalidArgument) << bad;
  }
  const std::string keys =
      "records_key " + HexEncode(KeyOf(1)) + "\nwitness_key " + HexEncode(KeyOf(2)) + "\n";
  // Signed by the root, yet not a document: each is refused after the signature.
  for (const std::string& text : {"ipn-trust v2\n" + keys, "ipn-trust v1\nversion x\n" + keys,
                                  "ipn-trust v1\n" + keys + "policy_key 12ab\n",
                                  "ipn-trust v1\nrecords_key " + HexEncode(KeyOf(1)) + "\n"}) {
    Result<TrustDocument> doc = VerifyTrustDocument(SignText(text, root), roots);
    ASSERT_FALSE(doc.ok()) << text;
    EXPECT_EQ(doc.status().code(), Status::Code::kInvalidArgument) << text;
  }
  // And the same text with the unknown kinds of line a later version may add still reads.
  Result<TrustDocument> later =
      VerifyTrustDocument(SignText("ipn-trust v1\nmirror https://x\n" + keys, root), roots);
  EXPECT_TRUE(later.ok()) << later.status().ToString();
}

TEST(TrustDocumentTest, SigningNeedsAKeyOfEachKindAndA64ByteSecret) {
  Root root;
  TrustDocument none = Sample();
  none.witness_keys.clear();
  EXPECT_EQ(SignTrustDocument(none, root.secret.span()).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(SignTrustDocument(Sample(), root.secret.span().subspan(0, 32)).status().code(),
            Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace ipn::portal
