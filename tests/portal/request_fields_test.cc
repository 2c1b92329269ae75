// RequestFields: the portal's checks of what a browser sends, without a server.
#include "portal/request_fields.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "common/encoding.h"

namespace ipn::portal {
namespace {

std::string ValidKey() {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  return Base64UrlEncode(std::span<const uint8_t>(pk, sizeof pk));
}

std::string Zeros(size_t n) {
  return Base64UrlEncode(std::vector<uint8_t>(n, 0));
}

TEST(RequestFields, AJsonBodyMustBeAnObject) {
  EXPECT_TRUE(ParseJsonObject(R"({"a":1})").ok());
  for (const char* bad : {"", "[1]", "\"text\"", "{", "{\"a\":1} trailing", "null"}) {
    Result<nlohmann::json> r = ParseJsonObject(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message(), "the request body is not a JSON object");
  }
}

TEST(RequestFields, ALoginNeedsAValidKeyAChallengeAndASignatureOfExactSizes) {
  const std::string key = ValidKey();
  nlohmann::json ok = {{"public_key", key}, {"challenge", Zeros(32)}, {"signature", Zeros(64)}};
  Result<LoginRequest> login = ParseLoginRequest(ok);
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(login->challenge, std::string(32, '\0'));
  EXPECT_EQ(login->signature, std::string(64, '\0'));
  EXPECT_EQ(Base64UrlEncode(login->credential), key);

  auto refused = [&](nlohmann::json body) { return ParseLoginRequest(body).status().message(); };
  nlohmann::json b = ok;
  b["public_key"] = Zeros(32);  // all zero: small order
  EXPECT_EQ(refused(b), "public_key is not a valid Ed25519 public key");
  b = ok;
  b["challenge"] = Zeros(31);
  EXPECT_EQ(refused(b), "challenge must be 32 bytes in base64url");
  b = ok;
  b["signature"] = 64;
  EXPECT_EQ(refused(b), "missing signature");
  b = ok;
  b.erase("public_key");
  EXPECT_EQ(refused(b), "missing public_key");
}

TEST(RequestFields, TheSessionTokenNeedsBothHalves) {
  const std::string token = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";  // 43, as Login's
  const SessionHalves halves = SplitSessionToken(token);
  EXPECT_EQ(halves.cookie + halves.header, token);
  EXPECT_EQ(halves.cookie.size(), 21u);
  const std::string cookie = "theme=dark; ipn_session=" + halves.cookie + "; other=1";
  using Tokens = std::vector<std::string>;
  EXPECT_EQ(SessionTokens(cookie, "Bearer " + halves.header), Tokens{token});
  // The cookie alone (what another server on the host receives) is no session.
  EXPECT_EQ(SessionTokens(cookie, ""), Tokens{});
  EXPECT_EQ(SessionTokens(cookie, "Bearer "), Tokens{});
  EXPECT_EQ(SessionTokens(cookie, "Basic " + halves.header), Tokens{});
  EXPECT_EQ(SessionTokens("", "Bearer " + halves.header), Tokens{});
  // A cookie whose name merely starts with ours is not ours.
  EXPECT_EQ(SessionTokens("ipn_session_old=" + halves.cookie, "Bearer " + halves.header), Tokens{});
  // Another server on the host may plant a cookie of the same name, which a browser can
  // send first: every one is tried (a few at most), so it cannot lock the citizen out.
  const std::string planted = "ipn_session=junk; ipn_session=" + halves.cookie;
  EXPECT_EQ(SessionTokens(planted, "Bearer " + halves.header),
            (Tokens{"junk" + halves.header, token}));
  EXPECT_EQ(SessionTokens("ipn_session=a; ipn_session=b; ipn_session=c; ipn_session=d; "
                          "ipn_session=e",
                          "Bearer h")
                .size(),
            kMaxSessionCookies);
}

}  // namespace
}  // namespace ipn::portal
