// RequestFields: what the portal reads from outside — a request's JSON body, its
// base64url byte fields, a card's answer to a challenge (enrolment and log-in), and the
// session token. Each is checked here, once, with a message a citizen's page can show; the
// handlers in portal_server.cc see only checked values. Pure functions, fuzzed
// (fuzz/portal_request_fuzzer.cc).
//
// The session token is split in two halves so that no one place outside the portal's
// own page holds all of it: the first half travels in an HttpOnly cookie (which a browser
// also sends to any other web server on the same host, whatever its port), the second in
// an Authorization header that only the page's own origin can set, from its
// sessionStorage (bound to scheme, host and port). A cookie alone opens nothing.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "card/card.h"
#include "common/status.h"

namespace ipn::portal {

inline constexpr char kSessionCookie[] = "ipn_session";

// The body as a JSON object; InvalidArgument otherwise.
Result<nlohmann::json> ParseJsonObject(std::string_view body);

// A base64url string field `name` of exactly `size` bytes.
Result<std::vector<uint8_t>> BytesField(const nlohmann::json& body, const char* name, size_t size);

// A card's answer to a challenge, as the page sends it for enrolment and log-in: the
// challenge the portal gave (32 bytes), and what the card application printed — the
// card's certificate (DER, at most kMaxCertificateBytes) and its signature (64 bytes),
// all base64url. The certificate is only parsed here; CardVerifier judges it.
inline constexpr size_t kMaxCertificateBytes = 4096;
struct CardLogin {
  std::vector<uint8_t> challenge;
  card::CardSignature card;
};
Result<CardLogin> ParseCardLogin(const nlohmann::json& body);

// The session token's two halves, as Login hands them out: the cookie's and the page's.
struct SessionHalves {
  std::string cookie;
  std::string header;
};
SessionHalves SplitSessionToken(const std::string& token);

// The whole tokens a request's Cookie and Authorization ("Bearer …") headers may carry:
// one per `ipn_session` cookie (another server on the host can set a cookie of the same
// name, which the browser may send first), each joined to the header's half; at most
// kMaxSessionCookies; none unless both halves are present.
inline constexpr size_t kMaxSessionCookies = 4;
std::vector<std::string> SessionTokens(std::string_view cookie_header,
                                       std::string_view authorization_header);

}  // namespace ipn::portal
