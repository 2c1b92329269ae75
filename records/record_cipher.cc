// XChaCha20-Poly1305 sealing of stored record values.
#include "records/record_cipher.h"

#include <sodium.h>

#include "records/record_codec.h"

namespace ipn::records {
namespace {

constexpr char kAdDomain[] = "ipn/records/v1";  // 14 bytes
constexpr size_t kAdDomainBytes = sizeof(kAdDomain) - 1;
constexpr size_t kAdBytes = kAdDomainBytes + 8 + kValueHeaderBytes;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr char kKeyCheckText[] = "ipn/records/key-check/v1";

static_assert(kNonceBytes == 24 && kTagBytes == 16);

void MakeAd(uint64_t sequence, const char* header, uint8_t* ad) {
  std::copy(kAdDomain, kAdDomain + kAdDomainBytes, ad);
  PutBigEndian64(sequence, ad + kAdDomainBytes);
  std::copy(header, header + kValueHeaderBytes, ad + kAdDomainBytes + 8);
}

}  // namespace

Result<ValueHeader> ParseValueHeader(std::string_view value) {
  if (value.size() < kValueOverheadBytes || static_cast<uint8_t>(value[0]) != kValueFormat) {
    return Status::Corruption("stored record value is malformed");
  }
  return ValueHeader{
      GetBigEndian32(value.data() + 1),
      std::span<const uint8_t, 32>(reinterpret_cast<const uint8_t*>(value.data()) + 5, 32),
      static_cast<int64_t>(GetBigEndian64(value.data() + 37))};
}

Result<RecordCipher> RecordCipher::Create(std::vector<std::pair<uint32_t, SecretBytes>> keys) {
  if (keys.empty()) return Status::InvalidArgument("no record encryption key was supplied");
  RecordCipher cipher;
  for (auto& [version, key] : keys) {
    if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
      return Status::InvalidArgument("record encryption key version " + std::to_string(version) +
                                     " is " + std::to_string(key.size()) + " bytes; it must be 32");
    }
    if (cipher.keys_.count(version)) {
      return Status::InvalidArgument("record encryption key version " + std::to_string(version) +
                                     " is listed twice");
    }
    cipher.write_version_ =
        cipher.keys_.empty() ? version : std::max(cipher.write_version_, version);
    cipher.keys_.emplace(version, std::move(key));
  }
  return cipher;
}

std::vector<uint32_t> RecordCipher::versions() const {
  std::vector<uint32_t> out;
  for (const auto& [v, k] : keys_) out.push_back(v);
  return out;
}

std::string RecordCipher::Seal(uint64_t sequence, int64_t time_unix_us,
                               std::span<const uint8_t, 32> record_symbol, std::string_view body,
                               const uint8_t* fresh_nonce) const {
  std::string value;
  SealInto(sequence, time_unix_us, record_symbol, body, fresh_nonce, &value);
  return value;
}

void RecordCipher::SealInto(uint64_t sequence, int64_t time_unix_us,
                            std::span<const uint8_t, 32> record_symbol, std::string_view body,
                            const uint8_t* fresh_nonce, std::string* value) const {
  value->resize(kValueHeaderBytes + kNonceBytes + body.size() + kTagBytes);
  char* p = value->data();
  p[0] = static_cast<char>(kValueFormat);
  PutBigEndian32(write_version_, p + 1);
  std::copy(record_symbol.begin(), record_symbol.end(), p + 5);
  PutBigEndian64(static_cast<uint64_t>(time_unix_us), p + 37);
  uint8_t* nonce = reinterpret_cast<uint8_t*>(p + kValueHeaderBytes);
  if (fresh_nonce != nullptr) {
    std::copy(fresh_nonce, fresh_nonce + kNonceBytes, nonce);
  } else {
    randombytes_buf(nonce, kNonceBytes);
  }
  uint8_t ad[kAdBytes];
  MakeAd(sequence, p, ad);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + kNonceBytes, &written, reinterpret_cast<const uint8_t*>(body.data()), body.size(), ad,
      sizeof(ad), nullptr, nonce, keys_.at(write_version_).data());
}

Status RecordCipher::Open(uint64_t sequence, std::string_view value, std::string* leaf) const {
  Result<ValueHeader> header = ParseValueHeader(value);
  if (!header.ok()) return header.status();
  auto key = keys_.find(header->key_version);
  if (key == keys_.end()) {
    return Status::FailedPrecondition(
        "record " + std::to_string(sequence) + " is sealed under encryption key version " +
        std::to_string(header->key_version) + ", which was not supplied");
  }
  const size_t cipher_bytes = value.size() - kValueHeaderBytes - kNonceBytes;
  leaf->clear();
  leaf->reserve(kLeafHeaderBytes + cipher_bytes - kTagBytes);
  AppendLeafHeader(sequence, header->time_unix_us, header->record_symbol, *leaf);
  leaf->resize(kLeafHeaderBytes + cipher_bytes - kTagBytes);
  uint8_t ad[kAdBytes];
  MakeAd(sequence, value.data(), ad);
  const uint8_t* nonce = reinterpret_cast<const uint8_t*>(value.data()) + kValueHeaderBytes;
  unsigned long long plain_bytes = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<uint8_t*>(leaf->data()) + kLeafHeaderBytes, &plain_bytes, nullptr,
          nonce + kNonceBytes, cipher_bytes, ad, sizeof(ad), nonce, key->second.data()) != 0) {
    leaf->clear();
    return Status::Corruption("record " + std::to_string(sequence) +
                              " fails authentication (altered, or moved from another sequence)");
  }
  return Status::Ok();
}

Result<Record> RecordCipher::OpenRecord(uint64_t sequence, std::string_view value) const {
  std::string leaf;
  IPN_RETURN_IF_ERROR(Open(sequence, value, &leaf));
  Result<Record> record = DecodeLeaf(leaf);
  if (!record.ok()) return record.status().WithContext("record " + std::to_string(sequence));
  return record;
}

Result<SecretBytes> RecordCipher::DeriveSubkey(uint32_t version, uint64_t id,
                                               const char (&context)[9]) const {
  auto it = keys_.find(version);
  if (it == keys_.end()) {
    return Status::NotFound("no encryption key of version " + std::to_string(version));
  }
  static_assert(crypto_kdf_KEYBYTES == 32 && crypto_kdf_CONTEXTBYTES == 8);
  SecretBytes out(32);
  crypto_kdf_derive_from_key(out.data(), out.size(), id, context, it->second.data());
  return out;
}

std::string RecordCipher::MakeKeyCheck(uint32_t version) const {
  std::string check(kNonceBytes + sizeof(kKeyCheckText) - 1 + kTagBytes, '\0');
  uint8_t* nonce = reinterpret_cast<uint8_t*>(check.data());
  randombytes_buf(nonce, kNonceBytes);
  char ad[4];
  PutBigEndian32(version, ad);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + kNonceBytes, &written, reinterpret_cast<const uint8_t*>(kKeyCheckText),
      sizeof(kKeyCheckText) - 1, reinterpret_cast<const uint8_t*>(ad), sizeof(ad), nullptr, nonce,
      keys_.at(version).data());
  return check;
}

bool RecordCipher::CheckKey(uint32_t version, std::string_view key_check) const {
  auto key = keys_.find(version);
  if (key == keys_.end() ||
      key_check.size() != kNonceBytes + sizeof(kKeyCheckText) - 1 + kTagBytes) {
    return false;
  }
  char ad[4];
  PutBigEndian32(version, ad);
  uint8_t plain[sizeof(kKeyCheckText)];
  unsigned long long plain_bytes = 0;
  const uint8_t* nonce = reinterpret_cast<const uint8_t*>(key_check.data());
  return crypto_aead_xchacha20poly1305_ietf_decrypt(
             plain, &plain_bytes, nullptr, nonce + kNonceBytes, key_check.size() - kNonceBytes,
             reinterpret_cast<const uint8_t*>(ad), sizeof(ad), nonce, key->second.data()) == 0;
}

}  // namespace ipn::records
