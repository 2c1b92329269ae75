// RequestFields: parsing and checking what a request brings.
#include "portal/request_fields.h"

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

Result<CardLogin> ParseCardLogin(const nlohmann::json& body) {
  Result<std::vector<uint8_t>> challenge = BytesField(body, "challenge", 32);
  if (!challenge.ok()) return challenge.status();
  auto cert = body.find("certificate");
  if (cert == body.end() || !cert->is_string()) {
    return Status::InvalidArgument("missing certificate (paste what the card application printed)");
  }
  Result<std::vector<uint8_t>> der = Base64UrlDecode(cert->get_ref<const std::string&>());
  if (!der.ok() || der->empty() || der->size() > kMaxCertificateBytes) {
    return Status::InvalidArgument("certificate must be base64url, 1 to " +
                                   std::to_string(kMaxCertificateBytes) + " bytes");
  }
  Result<std::vector<uint8_t>> signature = BytesField(body, "signature", 64);
  if (!signature.ok()) return signature.status();
  CardLogin r;
  r.challenge = std::move(*challenge);
  r.card.certificate_der.assign(der->begin(), der->end());
  std::copy(signature->begin(), signature->end(), r.card.signature.begin());
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
