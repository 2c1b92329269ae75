// Ed25519Signer over a libsodium secret key in locked memory (the file-held default).
#include <sodium.h>

#include "common/key_custody.h"

namespace ipn {
namespace {

class SodiumSigner final : public Ed25519Signer {
 public:
  SodiumSigner(SecretBytes secret_key, const Ed25519PublicKey& public_key)
      : secret_key_(std::move(secret_key)), public_key_(public_key) {}
  const Ed25519PublicKey& public_key() const override { return public_key_; }
  Result<Ed25519Signature> Sign(std::span<const uint8_t> message) const override {
    Ed25519Signature signature;
    crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(),
                         secret_key_.data());
    return signature;
  }

 private:
  SecretBytes secret_key_;
  Ed25519PublicKey public_key_;
};

}  // namespace

Result<std::unique_ptr<Ed25519Signer>> MakeSodiumSigner(SecretBytes secret_key) {
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidArgument("the signing key must be a 64-byte Ed25519 secret key");
  }
  // The stored public half must be the one the seed gives, or every signature would name a
  // key that did not make it.
  SecretBytes seed(crypto_sign_SEEDBYTES);
  crypto_sign_ed25519_sk_to_seed(seed.data(), secret_key.data());
  Ed25519PublicKey derived;
  SecretBytes rebuilt(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(derived.data(), rebuilt.data(), seed.data());
  Ed25519PublicKey embedded;
  crypto_sign_ed25519_sk_to_pk(embedded.data(), secret_key.data());
  if (sodium_memcmp(derived.data(), embedded.data(), derived.size()) != 0) {
    return Status::InvalidArgument("the signing key is malformed (its public half does not match)");
  }
  return std::unique_ptr<Ed25519Signer>(new SodiumSigner(std::move(secret_key), derived));
}

}  // namespace ipn
