// The record store's key file.
#include "records/key_file.h"

#include <sodium.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/json_fields.h"

namespace ipn::records {
namespace {

constexpr char kKeyFileFormat[] = "ipn-records-keys/v1";

// Decodes hex straight into locked memory.
Result<SecretBytes> SecretFromHex(std::string_view hex, size_t bytes, const char* what) {
  if (hex.size() != 2 * bytes) {
    return Status::InvalidArgument(std::string(what) + " must be " + std::to_string(2 * bytes) +
                                   " hex digits");
  }
  SecretBytes out(bytes);
  size_t written = 0;
  if (sodium_hex2bin(out.data(), bytes, hex.data(), hex.size(), nullptr, &written, nullptr) != 0 ||
      written != bytes) {
    return Status::InvalidArgument(std::string(what) + " is not hex");
  }
  return out;
}

std::string SecretToHex(const SecretBytes& secret) {
  std::string hex(secret.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), secret.data(), secret.size());
  hex.pop_back();
  return hex;
}

void WipeString(std::string& s) {
  if (!s.empty()) Wipe(s.data(), s.size());
}

void WipeJson(nlohmann::json& j) {
  if (j.is_string()) {
    WipeString(j.get_ref<std::string&>());
  } else if (j.is_structured()) {
    for (auto& child : j) WipeJson(child);
  }
}

Result<RecordKeys> ParseKeys(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("format") || j["format"] != kKeyFileFormat) {
    return Status::InvalidArgument(std::string("key file format must be \"") + kKeyFileFormat +
                                   "\"");
  }
  RecordKeys keys;
  if (!j.contains("encryption_keys") || !j["encryption_keys"].is_array() ||
      j["encryption_keys"].empty()) {
    return Status::InvalidArgument("key file lists no encryption_keys");
  }
  for (const auto& entry : j["encryption_keys"]) {
    if (!entry.is_object() || !entry.contains("version") ||
        !entry["version"].is_number_unsigned() || !entry.contains("key") ||
        !entry["key"].is_string()) {
      return Status::InvalidArgument("each encryption key needs a \"version\" and a \"key\"");
    }
    const uint64_t version = JsonUint64(entry["version"]);
    if (version == 0 || version > UINT32_MAX) {
      return Status::InvalidArgument("encryption key versions are 1 to 4294967295");
    }
    Result<SecretBytes> key =
        SecretFromHex(entry["key"].get_ref<const std::string&>(), 32, "an encryption key");
    if (!key.ok()) return key.status();
    keys.encryption_keys.emplace_back(static_cast<uint32_t>(version), std::move(*key));
  }
  if (!j.contains("signing_secret_key") || !j["signing_secret_key"].is_string()) {
    return Status::InvalidArgument("key file has no signing_secret_key");
  }
  Result<SecretBytes> signing = SecretFromHex(j["signing_secret_key"].get_ref<const std::string&>(),
                                              crypto_sign_SECRETKEYBYTES, "the signing key");
  if (!signing.ok()) return signing.status();
  keys.signing_secret_key = std::move(*signing);
  return keys;
}

}  // namespace

RecordKeys GenerateRecordKeys() {
  RecordKeys keys;
  keys.encryption_keys.emplace_back(1, SecretBytes::Random(32));
  keys.signing_secret_key = SecretBytes(crypto_sign_SECRETKEYBYTES);
  uint8_t pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_keypair(pk, keys.signing_secret_key.data());
  return keys;
}

Result<RecordKeys> ReadKeyFile(const std::string& path, bool* permissive_mode) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound("cannot read key file " + path);
  if (permissive_mode != nullptr) *permissive_mode = (st.st_mode & 077) != 0;
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  Result<RecordKeys> keys = ParseKeyFile(*text);
  WipeString(*text);
  if (!keys.ok()) return keys.status().WithContext("key file " + path);
  return keys;
}

Result<RecordKeys> ParseKeyFile(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("not JSON");
  Result<RecordKeys> keys = ParseKeys(j);
  WipeJson(j);
  return keys;
}

Status WriteKeyFile(const std::string& path, const RecordKeys& keys) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    return Status::AlreadyExists("key file " + path + " exists; it is never overwritten");
  }
  nlohmann::json j;
  j["format"] = kKeyFileFormat;
  j["encryption_keys"] = nlohmann::json::array();
  for (const auto& [version, key] : keys.encryption_keys) {
    j["encryption_keys"].push_back({{"version", version}, {"key", SecretToHex(key)}});
  }
  j["signing_secret_key"] = SecretToHex(keys.signing_secret_key);
  std::string text = j.dump(2) + "\n";
  WipeJson(j);
  Status s = WriteFileAtomic(path, text);
  WipeString(text);
  return s;
}

}  // namespace ipn::records
