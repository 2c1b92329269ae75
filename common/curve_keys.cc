// CurveKeyPair generation and key files.
#include "common/curve_keys.h"

#include <sodium.h>

#include <cstring>

#include "common/encoding.h"
#include "common/file_util.h"

namespace ipn {

CurveKeyPair CurveKeyPair::Generate() {
  CurveKeyPair pair;
  pair.secret_key = SecretBytes(crypto_box_SECRETKEYBYTES);
  crypto_box_keypair(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

Result<CurveKeyPair> CurveKeyPair::LoadFile(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  std::string& t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.size() != 2 * crypto_box_SECRETKEYBYTES) {
    Wipe(t.data(), t.size());
    return Status::InvalidArgument("key file " + path + " must hold 64 hex characters");
  }
  CurveKeyPair pair;
  pair.secret_key = SecretBytes(crypto_box_SECRETKEYBYTES);
  size_t bin_len = 0;
  int rc = sodium_hex2bin(pair.secret_key.data(), pair.secret_key.size(), t.data(), t.size(),
                          nullptr, &bin_len, nullptr);
  Wipe(t.data(), t.size());
  if (rc != 0 || bin_len != crypto_box_SECRETKEYBYTES) {
    return Status::InvalidArgument("key file " + path + " is not valid hex");
  }
  crypto_scalarmult_base(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

Status CurveKeyPair::SaveFile(const std::string& path) const {
  SecretBytes hex(2 * secret_key.size() + 2);
  sodium_bin2hex(reinterpret_cast<char*>(hex.data()), hex.size(), secret_key.data(),
                 secret_key.size());
  hex.data()[hex.size() - 2] = '\n';
  return WriteFileAtomic(path, std::span<const uint8_t>(hex.data(), hex.size() - 1));
}

Result<PublicKey> ParsePublicKeyHex(std::string_view hex) {
  Result<std::vector<uint8_t>> bytes = HexDecode(hex);
  if (!bytes.ok() || bytes->size() != 32) {
    return Status::InvalidArgument("a public key is 64 hex characters");
  }
  PublicKey key;
  std::memcpy(key.data(), bytes->data(), 32);
  return key;
}

}  // namespace ipn
