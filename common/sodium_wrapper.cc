// KeyWrapper over a key-encryption key in locked memory (the file-held default).
#include <sodium.h>

#include "common/key_custody.h"

namespace ipn {
namespace {

constexpr char kWrapDomain[] = "ipn/key-wrap/v1";
constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

class SodiumWrapper final : public KeyWrapper {
 public:
  SodiumWrapper(SecretBytes kek, std::string description)
      : kek_(std::move(kek)), description_(std::move(description)) {}
  std::string Describe() const override { return description_; }

  // nonce | XChaCha20-Poly1305(key), AD = the domain.
  Result<std::string> Wrap(const SecretBytes& key) const override {
    std::string out(kNonce + key.size() + kTag, '\0');
    auto* o = reinterpret_cast<uint8_t*>(out.data());
    randombytes_buf(o, kNonce);
    unsigned long long size = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(o + kNonce, &size, key.data(), key.size(),
                                               reinterpret_cast<const uint8_t*>(kWrapDomain),
                                               sizeof(kWrapDomain) - 1, nullptr, o, kek_.data());
    return out;
  }

  Result<SecretBytes> Unwrap(std::span<const uint8_t> wrapped) const override {
    if (wrapped.size() <= kNonce + kTag) {
      return Status::PermissionDenied("the wrapped key is malformed");
    }
    SecretBytes key(wrapped.size() - kNonce - kTag);
    unsigned long long size = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            key.data(), &size, nullptr, wrapped.data() + kNonce, wrapped.size() - kNonce,
            reinterpret_cast<const uint8_t*>(kWrapDomain), sizeof(kWrapDomain) - 1, wrapped.data(),
            kek_.data()) != 0) {
      return Status::PermissionDenied("the wrapped key does not open with " + description_ +
                                      ": it was wrapped by another key, or altered");
    }
    return key;
  }

 private:
  SecretBytes kek_;
  std::string description_;
};

}  // namespace

Result<std::unique_ptr<KeyWrapper>> MakeSodiumWrapper(SecretBytes kek, std::string description) {
  if (kek.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
    return Status::InvalidArgument("a key-encryption key is 32 bytes");
  }
  if (description.empty() || description.size() > 255) {
    return Status::InvalidArgument("a key-encryption key's description is 1 to 255 bytes");
  }
  return std::unique_ptr<KeyWrapper>(new SodiumWrapper(std::move(kek), std::move(description)));
}

}  // namespace ipn
