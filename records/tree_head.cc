// Ed25519-signed tree heads.
#include "records/tree_head.h"

#include <sodium.h>

#include "common/encoding.h"
#include "common/secret.h"
#include "records/record_codec.h"

namespace ipn::records {
namespace {
constexpr char kHeadDomain[] = "ipn/records/tree-head/v1";
constexpr uint8_t kHeadFormat = 1;
constexpr size_t kHeadBytes = 1 + 8 + 8 + 32 + 32 + 64;
}  // namespace

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
  head.signer = signer.public_key();
  std::string input = TreeHeadSigningInput(tree_size, timestamp_us, root_hash);
  Result<Ed25519Signature> signature = signer.Sign(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(input.data()), input.size()));
  if (!signature.ok()) return signature.status().WithContext("cannot sign the tree head");
  head.signature = *signature;
  return head;
}

bool VerifyTreeHeadSignature(const SignedTreeHead& head, const PublicKey& public_key) {
  if (sodium_memcmp(head.signer.data(), public_key.data(), public_key.size()) != 0) return false;
  std::string input = TreeHeadSigningInput(head.tree_size, head.timestamp_us, head.root_hash);
  return crypto_sign_verify_detached(head.signature.data(),
                                     reinterpret_cast<const uint8_t*>(input.data()), input.size(),
                                     public_key.data()) == 0;
}

std::string EncodeTreeHead(const SignedTreeHead& head) {
  std::string out;
  out.reserve(kHeadBytes);
  out.push_back(static_cast<char>(kHeadFormat));
  AppendBigEndian64(head.tree_size, out);
  AppendBigEndian64(static_cast<uint64_t>(head.timestamp_us), out);
  out.append(reinterpret_cast<const char*>(head.root_hash.data()), 32);
  out.append(reinterpret_cast<const char*>(head.signer.data()), 32);
  out.append(reinterpret_cast<const char*>(head.signature.data()), 64);
  return out;
}

Result<SignedTreeHead> DecodeTreeHead(std::string_view bytes) {
  if (bytes.size() != kHeadBytes || static_cast<uint8_t>(bytes[0]) != kHeadFormat) {
    return Status::Corruption("stored tree head is malformed");
  }
  SignedTreeHead head;
  head.tree_size = GetBigEndian64(bytes.data() + 1);
  head.timestamp_us = static_cast<int64_t>(GetBigEndian64(bytes.data() + 9));
  std::copy(bytes.begin() + 17, bytes.begin() + 49, head.root_hash.begin());
  std::copy(bytes.begin() + 49, bytes.begin() + 81, head.signer.begin());
  std::copy(bytes.begin() + 81, bytes.begin() + 145, head.signature.begin());
  return head;
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
