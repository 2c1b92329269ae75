// RequestFields: parsing and checking what a request brings.
#include "portal/request_fields.h"

#include <sodium.h>

#include <algorithm>

#include "common/encoding.h"

namespace ipn::portal {
namespace {

// The values of every cookie named `name` in a Cookie header, in order, at most `most`.
std::vector<std::string_view> CookieValues(std::string_view header, std::string_view name,
                                           size_t most) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < header.size() && out.size() < most) {
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view part = header.substr(pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      out.push_back(part.substr(name.size() + 1));
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace

Result<nlohmann::json> ParseJsonObject(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("the request body is not a JSON object");
  }
  return j;
}

Result<std::vector<uint8_t>> BytesField(const nlohmann::json& body, const char* name, size_t size) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) {
    return Status::InvalidArgument(std::string("missing ") + name);
  }
  Result<std::vector<uint8_t>> bytes = Base64UrlDecode(it->get_ref<const std::string&>());
  if (!bytes.ok() || bytes->size() != size) {
    return Status::InvalidArgument(std::string(name) + " must be " + std::to_string(size) +
                                   " bytes in base64url");
  }
  return bytes;
}

Result<CredentialKey> PublicKeyField(const nlohmann::json& body) {
  Result<std::vector<uint8_t>> key = BytesField(body, "public_key", 32);
  if (!key.ok()) return key.status();
  if (crypto_core_ed25519_is_valid_point(key->data()) != 1) {
    return Status::InvalidArgument("public_key is not a valid Ed25519 public key");
  }
  CredentialKey credential;
  std::copy(key->begin(), key->end(), credential.begin());
  return credential;
}

Result<LoginRequest> ParseLoginRequest(const nlohmann::json& body) {
  Result<CredentialKey> key = PublicKeyField(body);
  if (!key.ok()) return key.status();
  Result<std::vector<uint8_t>> challenge = BytesField(body, "challenge", 32);
  if (!challenge.ok()) return challenge.status();
  Result<std::vector<uint8_t>> signature = BytesField(body, "signature", 64);
  if (!signature.ok()) return signature.status();
  LoginRequest r;
  r.credential = *key;
  r.challenge.assign(challenge->begin(), challenge->end());
  r.signature.assign(signature->begin(), signature->end());
  return r;
}

SessionHalves SplitSessionToken(const std::string& token) {
  const size_t half = token.size() / 2;
  return {token.substr(0, half), token.substr(half)};
}

std::vector<std::string> SessionTokens(std::string_view cookie_header,
                                       std::string_view authorization_header) {
  constexpr std::string_view kBearer = "Bearer ";
  std::vector<std::string> tokens;
  if (authorization_header.size() <= kBearer.size() ||
      authorization_header.substr(0, kBearer.size()) != kBearer) {
    return tokens;
  }
  const std::string_view half = authorization_header.substr(kBearer.size());
  for (std::string_view cookie : CookieValues(cookie_header, kSessionCookie, kMaxSessionCookies)) {
    if (cookie.empty()) continue;
    std::string token(cookie);
    token.append(half);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

}  // namespace ipn::portal
