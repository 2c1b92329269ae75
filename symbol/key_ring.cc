// KeyRing: generation, lifecycle changes and the plaintext serialisation.
#include "symbol/key_ring.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "common/big_endian.h"
#include "symbol/derivation.h"

namespace ipn::symbol {
namespace {

constexpr uint32_t kSerialFormat = 1;
constexpr size_t kMaxAgencyCodeLength = 64;

// Appends big-endian integers and raw bytes into a pre-sized SecretBytes.
class Writer {
 public:
  explicit Writer(SecretBytes* out) : out_(out) {}
  void U8(uint8_t v) { Raw(&v, 1); }
  void U16(uint16_t v) {
    uint8_t b[2];
    PutBigEndian16(v, b);
    Raw(b, sizeof(b));
  }
  void U32(uint32_t v) {
    uint8_t b[4];
    PutBigEndian32(v, b);
    Raw(b, sizeof(b));
  }
  void I64(int64_t v) {
    uint8_t b[8];
    PutBigEndian64(static_cast<uint64_t>(v), b);
    Raw(b, sizeof(b));
  }
  void Bytes(std::span<const uint8_t> b) { Raw(b.data(), b.size()); }
  void Text(std::string_view s) {
    U16(static_cast<uint16_t>(s.size()));
    Raw(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  size_t position() const { return pos_; }

 private:
  void Raw(const uint8_t* p, size_t n) {
    if (n == 0) return;
    std::memcpy(out_->data() + pos_, p, n);
    pos_ += n;
  }
  SecretBytes* out_;
  size_t pos_ = 0;
};

// Reads what Writer wrote, failing (ok() == false) on any overrun.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }
  uint8_t U8() {
    uint8_t v = 0;
    Raw(&v, 1);
    return v;
  }
  // On an overrun these return 0 and ok() turns false.
  uint16_t U16() {
    uint8_t b[2] = {};
    Raw(b, sizeof(b));
    return GetBigEndian16(b);
  }
  uint32_t U32() {
    uint8_t b[4] = {};
    Raw(b, sizeof(b));
    return GetBigEndian32(b);
  }
  int64_t I64() {
    uint8_t b[8] = {};
    Raw(b, sizeof(b));
    return static_cast<int64_t>(GetBigEndian64(b));
  }
  SecretBytes Secret(size_t n) {
    SecretBytes s(n);
    Raw(s.data(), n);
    return s;
  }
  std::string Text() {
    uint16_t n = U16();
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  void Raw(uint8_t* p, size_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return;
    }
    if (n > 0) std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

AgencyKeys* FindMutable(std::map<std::string, AgencyKeys, std::less<>>& agencies,
                        std::string_view code) {
  auto it = agencies.find(code);
  return it == agencies.end() ? nullptr : &it->second;
}

Status NoKeysFor(std::string_view code) {
  return Status::NotFound("agency " + std::string(code) +
                          " has no keys (no symbol was ever issued for it)");
}

}  // namespace

const char* KeyStateName(KeyState state) {
  switch (state) {
    case KeyState::kActive: return "active";
    case KeyState::kRetired: return "retired";
    case KeyState::kDestroyed: return "destroyed";
  }
  return "unknown";
}

Status ValidateAgencyCode(std::string_view code) {
  if (code.empty()) return Status::InvalidArgument("agency code is empty");
  if (code.size() > kMaxAgencyCodeLength) {
    return Status::InvalidArgument("agency code is longer than 64 characters");
  }
  for (char c : code) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) {
      return Status::InvalidArgument(
          "agency code may contain only letters, digits, '-', '_' and '.'");
    }
  }
  return Status::Ok();
}

const AgencyKeyVersion* AgencyKeys::Find(uint16_t version) const {
  for (const auto& v : versions) {
    if (v.version == version) return &v;
  }
  return nullptr;
}

const AgencyKeyVersion& AgencyKeys::active() const {
  for (const auto& v : versions) {
    if (v.state == KeyState::kActive) return v;
  }
  return versions.back();  // unreachable: Deserialize and every change keep one active
}

KeyRing KeyRing::Generate() {
  KeyRing ring;
  ring.linkage_key_ = SecretBytes::Random(kKeySize);
  ring.record_symbol_key_ = SecretBytes::Random(kKeySize);
  ring.issuance_index_key_ = SecretBytes::Random(kKeySize);
  ring.code_index_key_ = SecretBytes::Random(kKeySize);
  ring.issuance_data_key_ = SecretBytes::Random(kKeySize);
  ring.record_encryption_keys_.emplace_back(1, SecretBytes::Random(kKeySize));
  ring.record_signing_secret_key_ = SecretBytes(crypto_sign_SECRETKEYBYTES);
  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> pk;
  crypto_sign_keypair(pk.data(), ring.record_signing_secret_key_.data());
  return ring;
}

KeyRing KeyRing::Clone() const {
  KeyRing ring;
  ring.linkage_key_ = linkage_key_.Clone();
  ring.record_symbol_key_ = record_symbol_key_.Clone();
  ring.issuance_index_key_ = issuance_index_key_.Clone();
  ring.code_index_key_ = code_index_key_.Clone();
  ring.issuance_data_key_ = issuance_data_key_.Clone();
  for (const auto& [version, key] : record_encryption_keys_) {
    ring.record_encryption_keys_.emplace_back(version, key.Clone());
  }
  ring.record_signing_secret_key_ = record_signing_secret_key_.Clone();
  for (const auto& [code, keys] : agencies_) {
    AgencyKeys copy;
    for (const auto& v : keys.versions) {
      copy.versions.push_back({v.version, v.state, v.created_us, v.changed_us, v.key.Clone()});
    }
    ring.agencies_.emplace(code, std::move(copy));
  }
  return ring;
}

SecretBytes KeyRing::Serialize() const {
  size_t size = 4 + 5 * kKeySize + 4 + record_encryption_keys_.size() * (4 + kKeySize) +
                crypto_sign_SECRETKEYBYTES + 4;
  for (const auto& [code, keys] : agencies_) {
    size += 2 + code.size() + 4;
    for (const auto& v : keys.versions) {
      size += 2 + 1 + 8 + 8 + (v.state == KeyState::kDestroyed ? 0 : kAgencyKeySize);
    }
  }
  SecretBytes out(size);
  Writer w(&out);
  w.U32(kSerialFormat);
  w.Bytes(linkage_key_.span());
  w.Bytes(record_symbol_key_.span());
  w.Bytes(issuance_index_key_.span());
  w.Bytes(code_index_key_.span());
  w.Bytes(issuance_data_key_.span());
  w.U32(static_cast<uint32_t>(record_encryption_keys_.size()));
  for (const auto& [version, key] : record_encryption_keys_) {
    w.U32(version);
    w.Bytes(key.span());
  }
  w.Bytes(record_signing_secret_key_.span());
  w.U32(static_cast<uint32_t>(agencies_.size()));
  for (const auto& [code, keys] : agencies_) {
    w.Text(code);
    w.U32(static_cast<uint32_t>(keys.versions.size()));
    for (const auto& v : keys.versions) {
      w.U16(v.version);
      w.U8(static_cast<uint8_t>(v.state));
      w.I64(v.created_us);
      w.I64(v.changed_us);
      if (v.state != KeyState::kDestroyed) w.Bytes(v.key.span());
    }
  }
  return out;
}

Result<KeyRing> KeyRing::Deserialize(std::span<const uint8_t> bytes) {
  Status damaged = Status::Corruption("the key ring's contents are damaged");
  Reader r(bytes);
  uint32_t format = r.U32();
  if (!r.ok()) return damaged;
  if (format != kSerialFormat) {
    return Status::FailedPrecondition("the key ring has contents format " + std::to_string(format) +
                                      ", which this version of ipn does not support");
  }
  KeyRing ring;
  ring.linkage_key_ = r.Secret(kKeySize);
  ring.record_symbol_key_ = r.Secret(kKeySize);
  ring.issuance_index_key_ = r.Secret(kKeySize);
  ring.code_index_key_ = r.Secret(kKeySize);
  ring.issuance_data_key_ = r.Secret(kKeySize);
  uint32_t n_record = r.U32();
  if (!r.ok() || n_record == 0 || n_record > bytes.size()) return damaged;
  uint32_t last_version = 0;
  for (uint32_t i = 0; i < n_record && r.ok(); ++i) {
    uint32_t version = r.U32();
    if (version <= last_version) return damaged;
    last_version = version;
    ring.record_encryption_keys_.emplace_back(version, r.Secret(kKeySize));
  }
  ring.record_signing_secret_key_ = r.Secret(crypto_sign_SECRETKEYBYTES);
  uint32_t n_agencies = r.U32();
  if (!r.ok() || n_agencies > bytes.size()) return damaged;
  for (uint32_t i = 0; i < n_agencies && r.ok(); ++i) {
    std::string code = r.Text();
    uint32_t n_versions = r.U32();
    if (!r.ok() || !ValidateAgencyCode(code).ok() || n_versions == 0 || n_versions > 0xffff ||
        ring.agencies_.count(code) != 0) {
      return damaged;
    }
    AgencyKeys keys;
    int active = 0;
    for (uint32_t j = 0; j < n_versions && r.ok(); ++j) {
      AgencyKeyVersion v;
      v.version = r.U16();
      uint8_t state = r.U8();
      v.created_us = r.I64();
      v.changed_us = r.I64();
      if (state < 1 || state > 3) return damaged;
      v.state = static_cast<KeyState>(state);
      if (v.state == KeyState::kActive) ++active;
      if (v.state != KeyState::kDestroyed) v.key = r.Secret(kAgencyKeySize);
      if (v.version == 0 || (!keys.versions.empty() && v.version <= keys.versions.back().version)) {
        return damaged;
      }
      keys.versions.push_back(std::move(v));
    }
    if (active != 1) return damaged;
    ring.agencies_.emplace(std::move(code), std::move(keys));
  }
  if (!r.ok() || !r.done()) return damaged;
  return ring;
}

const AgencyKeys* KeyRing::FindAgency(std::string_view agency_code) const {
  auto it = agencies_.find(agency_code);
  return it == agencies_.end() ? nullptr : &it->second;
}

Status KeyRing::AddAgency(std::string_view agency_code, int64_t now_us) {
  IPN_RETURN_IF_ERROR(ValidateAgencyCode(agency_code));
  if (FindAgency(agency_code) != nullptr) {
    return Status::AlreadyExists("agency " + std::string(agency_code) + " already has keys");
  }
  AgencyKeys keys;
  keys.versions.push_back(
      {1, KeyState::kActive, now_us, now_us, SecretBytes::Random(kAgencyKeySize)});
  agencies_.emplace(std::string(agency_code), std::move(keys));
  return Status::Ok();
}

Result<uint16_t> KeyRing::RotateAgency(std::string_view agency_code, int64_t now_us) {
  AgencyKeys* keys = FindMutable(agencies_, agency_code);
  if (keys == nullptr) return NoKeysFor(agency_code);
  uint16_t newest = keys->versions.back().version;
  if (newest == 0xffff) {
    return Status::ResourceExhausted("agency " + std::string(agency_code) +
                                     " has used every key version (65535)");
  }
  for (auto& v : keys->versions) {
    if (v.state == KeyState::kActive) {
      v.state = KeyState::kRetired;
      v.changed_us = now_us;
    }
  }
  uint16_t version = static_cast<uint16_t>(newest + 1);
  keys->versions.push_back(
      {version, KeyState::kActive, now_us, now_us, SecretBytes::Random(kAgencyKeySize)});
  return version;
}

Status KeyRing::DestroyAgencyVersion(std::string_view agency_code, uint16_t version,
                                     int64_t now_us) {
  AgencyKeys* keys = FindMutable(agencies_, agency_code);
  if (keys == nullptr) return NoKeysFor(agency_code);
  std::string name =
      "key version " + std::to_string(version) + " of agency " + std::string(agency_code);
  for (auto& v : keys->versions) {
    if (v.version != version) continue;
    switch (v.state) {
      case KeyState::kActive:
        return Status::FailedPrecondition(
            name + " is the active version and cannot be destroyed; rotate first");
      case KeyState::kDestroyed: return Status::FailedPrecondition(name + " was already destroyed");
      case KeyState::kRetired:
        v.state = KeyState::kDestroyed;
        v.changed_us = now_us;
        v.key = SecretBytes();  // sodium_free wipes the key material
        return Status::Ok();
    }
  }
  return Status::NotFound(name + " does not exist");
}

std::vector<KeyInfo> KeyRing::List() const {
  std::vector<KeyInfo> out;
  for (const auto& [code, keys] : agencies_) {
    for (const auto& v : keys.versions) {
      out.push_back({code, v.version, v.state, v.created_us, v.changed_us});
    }
  }
  return out;
}

std::string KeyRing::Summary() const {
  return KeyRingSummary(List(),
                        record_encryption_keys_.empty() ? 0 : record_encryption_keys_.back().first);
}

RecordKeys KeyRing::CloneRecordKeys() const {
  RecordKeys keys;
  for (const auto& [version, key] : record_encryption_keys_) {
    keys.encryption.emplace_back(version, key.Clone());
  }
  keys.signing_secret_key = record_signing_secret_key_.Clone();
  crypto_sign_ed25519_sk_to_pk(keys.signing_public_key.data(), record_signing_secret_key_.data());
  return keys;
}

uint32_t KeyRing::RotateRecordEncryptionKey() {
  uint32_t version = record_encryption_keys_.back().first + 1;
  record_encryption_keys_.emplace_back(version, SecretBytes::Random(kKeySize));
  return version;
}

std::string KeyRingSummary(const std::vector<KeyInfo>& keys, uint32_t records_version) {
  std::vector<std::string> parts;
  for (const KeyInfo& k : keys) {
    parts.push_back(k.agency + "@v" + std::to_string(k.version) + ":" + KeyStateName(k.state));
  }
  if (records_version != 0)
    parts.push_back("#records@v" + std::to_string(records_version) + ":active");
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

}  // namespace ipn::symbol
