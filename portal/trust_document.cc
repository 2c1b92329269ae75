// The portal's trust document: signing, checking, and the build's pinned roots.
#include "portal/trust_document.h"

#include <sodium.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "common/curve_keys.h"
#include "common/encoding.h"
#include "common/time_text.h"

namespace ipn::portal {
namespace {

constexpr std::string_view kDomain = "ipn/portal/trust/v1\n";

std::string SigningInput(std::string_view text) {
  std::string m(kDomain);
  m.append(text);
  return m;
}

Result<records::PublicKey> KeyFromHex(std::string_view hex, std::string_view what) {
  Result<PublicKey> key = ParsePublicKeyHex(hex);
  if (!key.ok()) return key.status().WithContext(what);
  return *key;
}

}  // namespace

Result<std::string> SignTrustDocument(const TrustDocument& doc,
                                      std::span<const uint8_t> root_secret_key) {
  if (root_secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidArgument("the trust root's secret key must be 64 bytes");
  }
  if (doc.records_keys.empty() || doc.witness_keys.empty()) {
    return Status::InvalidArgument(
        "a trust document names at least one records key and one "
        "witness key");
  }
  std::string text = "ipn-trust v1\nversion " + std::to_string(doc.version) + "\nissued " +
                     FormatUtc(doc.issued_unix_us).substr(0, 19) + "Z\n";
  for (const records::PublicKey& k : doc.records_keys) text += "records_key " + HexEncode(k) + "\n";
  for (const records::PublicKey& k : doc.witness_keys) text += "witness_key " + HexEncode(k) + "\n";
  for (const records::PublicKey& k : doc.policy_keys) text += "policy_key " + HexEncode(k) + "\n";
  const std::string input = SigningInput(text);
  std::array<uint8_t, 64> signature{};
  crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const uint8_t*>(input.data()),
                       input.size(), root_secret_key.data());
  nlohmann::ordered_json j;
  j["text"] = text;
  j["signer"] = HexEncode(root_secret_key.subspan(32, 32));
  j["signature"] = HexEncode(signature);
  return j.dump();
}

Result<TrustDocument> VerifyTrustDocument(std::string_view json,
                                          std::span<const records::PublicKey> roots) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("text") || !j["text"].is_string() ||
      !j.contains("signer") || !j["signer"].is_string() || !j.contains("signature") ||
      !j["signature"].is_string()) {
    return Status::InvalidArgument(
        "a trust document is a JSON object with text, signer, signature");
  }
  const std::string text = j["text"].get<std::string>();
  Result<records::PublicKey> signer = KeyFromHex(j["signer"].get<std::string>(), "signer");
  if (!signer.ok()) return signer.status();
  Result<std::vector<uint8_t>> signature = HexDecode(j["signature"].get<std::string>());
  if (!signature.ok() || signature->size() != 64) {
    return Status::InvalidArgument("signature must be 128 hex digits");
  }
  bool pinned = false;
  for (const records::PublicKey& r : roots) {
    pinned = pinned || sodium_memcmp(r.data(), signer->data(), r.size()) == 0;
  }
  if (!pinned) {
    return Status::PermissionDenied("the trust document is signed by " + HexEncode(*signer) +
                                    ", which is not a trust root");
  }
  const std::string input = SigningInput(text);
  if (crypto_sign_verify_detached(signature->data(), reinterpret_cast<const uint8_t*>(input.data()),
                                  input.size(), signer->data()) != 0) {
    return Status::PermissionDenied("the trust document's signature is not valid");
  }
  TrustDocument doc;
  std::istringstream lines(text);
  std::string line;
  if (!std::getline(lines, line) || line != "ipn-trust v1") {
    return Status::InvalidArgument("a trust document starts with \"ipn-trust v1\"");
  }
  while (std::getline(lines, line)) {
    const size_t space = line.find(' ');
    const std::string kind = line.substr(0, space);
    const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
    if (kind == "version") {
      try {
        doc.version = std::stoull(value);
      } catch (const std::exception&) {
        return Status::InvalidArgument("the trust document's version is not a number");
      }
    } else if (kind == "issued") {
      Result<int64_t> t = ParseUtc(value, "issued");
      if (!t.ok()) return t.status();
      doc.issued_unix_us = *t;
    } else if (kind == "records_key" || kind == "witness_key" || kind == "policy_key") {
      Result<records::PublicKey> key = KeyFromHex(value, kind);
      if (!key.ok()) return key.status();
      (kind == "records_key"   ? doc.records_keys
       : kind == "witness_key" ? doc.witness_keys
                               : doc.policy_keys)
          .push_back(*key);
    }
  }
  if (doc.records_keys.empty() || doc.witness_keys.empty()) {
    return Status::InvalidArgument("the trust document names no records key or no witness key");
  }
  return doc;
}

std::vector<records::PublicKey> BuiltInTrustRoots() {
  std::vector<records::PublicKey> roots;
  std::string_view all = IPN_TRUST_ROOT_KEYS;  // comma-separated hex, from CMake
  while (!all.empty()) {
    const size_t comma = all.find(',');
    Result<records::PublicKey> key = KeyFromHex(all.substr(0, comma), "a trust root");
    if (key.ok()) roots.push_back(*key);
    all = comma == std::string_view::npos ? std::string_view() : all.substr(comma + 1);
  }
  return roots;
}

}  // namespace ipn::portal
