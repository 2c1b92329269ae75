// RequestFields: the portal's checks of what a browser sends, without a server.
#include "portal/request_fields.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace ipn::portal {
namespace {

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

TEST(RequestFields, ACardAnswerNeedsAChallengeACertificateAndASignatureOfExactSizes) {
  const std::string cert = Base64UrlEncode(std::vector<uint8_t>{0x30, 0x03, 0x02, 0x01, 0x01});
  nlohmann::json ok = {{"challenge", Zeros(32)}, {"certificate", cert}, {"signature", Zeros(64)}};
  Result<CardLogin> login = ParseCardLogin(ok);
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(login->challenge, std::vector<uint8_t>(32, 0));
  EXPECT_EQ(login->card.certificate_der, std::string("\x30\x03\x02\x01\x01", 5));
  EXPECT_EQ(login->card.signature, Ed25519Signature{});

  auto refused = [&](nlohmann::json body) { return ParseCardLogin(body).status().message(); };
  nlohmann::json b = ok;
  b["challenge"] = Zeros(31);
  EXPECT_EQ(refused(b), "challenge must be 32 bytes in base64url");
  b = ok;
  b["signature"] = 64;
  EXPECT_EQ(refused(b), "missing signature");
  b = ok;
  b.erase("certificate");
  EXPECT_EQ(refused(b), "missing certificate (paste what the card application printed)");
  b = ok;
  b["certificate"] = "";
  EXPECT_EQ(refused(b), "certificate must be base64url, 1 to 4096 bytes");
  b = ok;
  b["certificate"] = Zeros(kMaxCertificateBytes + 1);
  EXPECT_EQ(refused(b), "certificate must be base64url, 1 to 4096 bytes");
  b = ok;
  b["certificate"] = "not base64url!";
  EXPECT_EQ(refused(b), "certificate must be base64url, 1 to 4096 bytes");
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
