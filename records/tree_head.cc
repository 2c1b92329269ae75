// Ed25519-signed tree heads.
#include "records/tree_head.h"

#include <sodium.h>

#include "common/encoding.h"
#include "common/secret.h"
#include "records/record_codec.h"

namespace ipn::records {
namespace {
constexpr char kHeadDomain[] = "ipn/records/tree-head/v1";
constexpr char kHeadDomainV2[] = "ipn/records/tree-head/v2";
constexpr size_t kHeadBytes = 1 + 8 + 8 + 32 + 32 + 64;
constexpr size_t kHeadBytesV2 = kHeadBytes + 64;

void AppendHash(const Hash& h, std::string& out) {
  out.append(reinterpret_cast<const char*>(h.data()), h.size());
}
}  // namespace

std::string TreeHeadSigningInput(const SignedTreeHead& head) {
  if (head.version != 2) {
    return TreeHeadSigningInput(head.tree_size, head.timestamp_us, head.root_hash);
  }
  std::string input(kHeadDomainV2);
  AppendBigEndian64(head.tree_size, input);
  AppendBigEndian64(static_cast<uint64_t>(head.timestamp_us), input);
  AppendHash(head.root_hash, input);
  AppendHash(head.history.disclosed, input);
  AppendHash(head.history.withheld, input);
  return input;
}

namespace {

// Signs the head's fields (TreeHeadSigningInput) through `signer`.
Result<SignedTreeHead> SignWith(SignedTreeHead head, const Ed25519Signer& signer) {
  head.signer = signer.public_key();
  const std::string input = TreeHeadSigningInput(head);
  Result<Ed25519Signature> signature = signer.Sign(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(input.data()), input.size()));
  if (!signature.ok()) return signature.status().WithContext("cannot sign the tree head");
  head.signature = *signature;
  return head;
}

}  // namespace

Result<SignedTreeHead> SignTreeHeadV2(uint64_t tree_size, const Hash& root_hash,
                                      const HistoryRoots& history, int64_t timestamp_us,
                                      const Ed25519Signer& signer) {
  SignedTreeHead head;
  head.version = 2;
  head.tree_size = tree_size;
  head.root_hash = root_hash;
  head.history = history;
  head.timestamp_us = timestamp_us;
  return SignWith(std::move(head), signer);
}

std::string TreeHeadSigningInput(uint64_t tree_size, int64_t timestamp_us, const Hash& root_hash) {
  std::string input(kHeadDomain);
  AppendBigEndian64(tree_size, input);
  AppendBigEndian64(static_cast<uint64_t>(timestamp_us), input);
  input.append(reinterpret_cast<const char*>(root_hash.data()), root_hash.size());
  return input;
}

SignedTreeHead SignTreeHead(uint64_t tree_size, const Hash& root_hash, int64_t timestamp_us,
                            std::span<const uint8_t> signing_secret_key) {
  SignedTreeHead head;
  head.tree_size = tree_size;
  head.root_hash = root_hash;
  head.timestamp_us = timestamp_us;
  crypto_sign_ed25519_sk_to_pk(head.signer.data(), signing_secret_key.data());
  std::string input = TreeHeadSigningInput(tree_size, timestamp_us, root_hash);
  crypto_sign_detached(head.signature.data(), nullptr,
                       reinterpret_cast<const uint8_t*>(input.data()), input.size(),
                       signing_secret_key.data());
  return head;
}

Result<SignedTreeHead> SignTreeHead(uint64_t tree_size, const Hash& root_hash, int64_t timestamp_us,
                                    const Ed25519Signer& signer) {
  SignedTreeHead head;
  head.tree_size = tree_size;
  head.root_hash = root_hash;
  head.timestamp_us = timestamp_us;
  return SignWith(std::move(head), signer);
}

bool VerifyTreeHeadSignature(const SignedTreeHead& head, const PublicKey& public_key) {
  if (sodium_memcmp(head.signer.data(), public_key.data(), public_key.size()) != 0) return false;
  if (head.version != 1 && head.version != 2) return false;
  std::string input = TreeHeadSigningInput(head);
  return crypto_sign_verify_detached(head.signature.data(),
                                     reinterpret_cast<const uint8_t*>(input.data()), input.size(),
                                     public_key.data()) == 0;
}

std::string EncodeTreeHead(const SignedTreeHead& head) {
  std::string out;
  const bool v2 = head.version == 2;
  out.reserve(v2 ? kHeadBytesV2 : kHeadBytes);
  out.push_back(static_cast<char>(v2 ? 2 : 1));
  AppendBigEndian64(head.tree_size, out);
  AppendBigEndian64(static_cast<uint64_t>(head.timestamp_us), out);
  AppendHash(head.root_hash, out);
  if (v2) {
    AppendHash(head.history.disclosed, out);
    AppendHash(head.history.withheld, out);
  }
  out.append(reinterpret_cast<const char*>(head.signer.data()), 32);
  out.append(reinterpret_cast<const char*>(head.signature.data()), 64);
  return out;
}

Result<SignedTreeHead> DecodeTreeHead(std::string_view bytes) {
  const uint8_t version = bytes.empty() ? 0 : static_cast<uint8_t>(bytes[0]);
  if (!((version == 1 && bytes.size() == kHeadBytes) ||
        (version == 2 && bytes.size() == kHeadBytesV2))) {
    return Status::Corruption("stored tree head is malformed");
  }
  SignedTreeHead head;
  head.version = version;
  head.tree_size = GetBigEndian64(bytes.data() + 1);
  head.timestamp_us = static_cast<int64_t>(GetBigEndian64(bytes.data() + 9));
  auto at = bytes.begin() + 17;
  auto take = [&](auto& out) {
    std::copy(at, at + static_cast<ptrdiff_t>(out.size()), out.begin());
    at += static_cast<ptrdiff_t>(out.size());
  };
  take(head.root_hash);
  if (version == 2) {
    take(head.history.disclosed);
    take(head.history.withheld);
  }
  take(head.signer);
  take(head.signature);
  return head;
}

std::string CosigningInput(const SignedTreeHead& head, int64_t cosigned_unix_us) {
  std::string m("ipn/records/cosign/v1\n");
  m += EncodeTreeHead(head);
  AppendBigEndian64(static_cast<uint64_t>(cosigned_unix_us), m);
  return m;
}

bool VerifyCosignatureOf(const SignedTreeHead& head, const PublicKey& witness,
                         int64_t cosigned_unix_us, std::span<const uint8_t, 64> signature) {
  const std::string m = CosigningInput(head, cosigned_unix_us);
  return crypto_sign_verify_detached(signature.data(), reinterpret_cast<const uint8_t*>(m.data()),
                                     m.size(), witness.data()) == 0;
}

Result<PublicKey> SigningPublicKey(std::span<const uint8_t> signing_secret_key) {
  if (signing_secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidArgument("the signing key must be a 64-byte Ed25519 secret key");
  }
  // The signer checks that the embedded public half is the seed's.
  SecretBytes copy(signing_secret_key.size());
  std::copy(signing_secret_key.begin(), signing_secret_key.end(), copy.data());
  Result<std::unique_ptr<Ed25519Signer>> signer = MakeSodiumSigner(std::move(copy));
  if (!signer.ok()) return signer.status();
  return (*signer)->public_key();
}

}  // namespace ipn::records
