// Citizens in by their card only (issue #15, DESIGN.md §10). A real network with the
// portal behind its node; the card issuer (the registry's role) issues SoftHSM2 cards,
// links each to its holder through the registry link's node, and the holder enrols and
// logs in with a fresh card signature over the portal's challenge and origin. Knowing a
// resident code opens nothing; a revoked card, another issuer's card, a signature for
// another origin, a replayed challenge and a wrong PIN are refused, and the card locks
// after three wrong PINs. Each citizen sees their own history only.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sodium.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "card/card.h"
#include "common/encoding.h"
#include "portal/card_link_request.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/support/softhsm.h"

namespace ipn::testing {
namespace {

constexpr char kPen[] = "PEN-0001";
constexpr char kMun[] = "MUN-131016";
constexpr char kReg[] = "REG-0001";
constexpr char kPortal[] = "PORTAL-0001";
constexpr char kPin[] = "2468";

int64_t Now() {
  return static_cast<int64_t>(std::time(nullptr));
}

class PortalCardE2eTest : public ::testing::Test {
 protected:
  PortalCardE2eTest() {
    // Every card first: SoftHSM2 sees only the tokens present when it is first loaded.
    for (const char* label : {"card-a", "card-b", "card-revoked", "card-unlinked", "card-rogue"}) {
      EXPECT_TRUE(hsm_.InitToken(label, kPin)) << label;
    }
    net_ = std::make_unique<E2eNetwork>(
        std::vector<std::string>{kReg, kPen, kMun}, std::vector<std::string>{}, "", 2.0,
        std::function<void(const std::string&)>{}, [](localnet::LocalNetworkOptions& o) {
          o.agencies.push_back({kPortal, true, false});
          o.start_portal = true;
        });
  }
  void SetUp() override {
    ASSERT_FALSE(HasFailure());
    auto issuer = card::CardIssuer::Open(net_->net().card_issuer_dir());
    ASSERT_TRUE(issuer.ok()) << issuer.status().ToString();
    issuer_ = std::move(*issuer);
  }

  httplib::Client Http() {
    httplib::Client c("127.0.0.1", net_->net().portal_port());
    c.set_read_timeout(10, 0);
    return c;
  }
  // Issues card token `label` by `issuer`; its serial.
  std::string Issue(const std::string& label, card::CardIssuer& issuer) {
    auto card = token::Pkcs11Token::Open({token::kSoftHsmModule, label}, kPin);
    EXPECT_TRUE(card.ok()) << card.status().ToString();
    if (!card.ok()) return "";
    auto serial = issuer.Issue(**card, Now());
    EXPECT_TRUE(serial.ok()) << serial.status().ToString();
    return serial.ok() ? *serial : "";
  }
  // The issuer's counter: issue the card and link it to the holder of `code`.
  std::string IssueAndLink(const std::string& label, std::string code) {
    const std::string serial = Issue(label, *issuer_);
    Status linked = portal::RequestCardLink(net_->net().LocalEndpoint(kReg), kPortal, serial, code);
    EXPECT_TRUE(linked.ok()) << linked.ToString();
    return serial;
  }
  std::string Challenge() {
    auto res = Http().Post("/api/challenge", "{}", "application/json");
    EXPECT_TRUE(res && res->status == 200);
    if (!res || res->status != 200) return "";
    nlohmann::json j = nlohmann::json::parse(res->body);
    EXPECT_EQ(j["origin"], net_->net().portal_origin());
    return j["challenge"].get<std::string>();
  }
  // What the page posts: the challenge and the card application's answer for it.
  Result<nlohmann::json> CardAnswer(const std::string& label, const std::string& challenge,
                                    const std::string& pin = kPin, std::string origin = "") {
    if (origin.empty()) origin = net_->net().portal_origin();
    auto bytes = Base64UrlDecode(challenge);
    if (!bytes.ok()) return bytes.status();
    auto signed_ = card::SignWithCard({token::kSoftHsmModule, label}, pin, origin, *bytes);
    if (!signed_.ok()) return signed_.status();
    const auto* der = reinterpret_cast<const uint8_t*>(signed_->certificate_der.data());
    return nlohmann::json{{"challenge", challenge},
                          {"certificate", Base64UrlEncode({der, signed_->certificate_der.size()})},
                          {"signature", Base64UrlEncode(signed_->signature)}};
  }
  struct Reply {
    int status = 0;
    nlohmann::json body;
    std::string session;  // the whole token: cookie half + page half
  };
  Reply Post(const std::string& path, const nlohmann::json& body) {
    auto res = Http().Post(path, body.dump(), "application/json");
    Reply r;
    if (!res) return r;
    r.status = res->status;
    r.body = nlohmann::json::parse(res->body, nullptr, false);
    const std::string cookie = res->get_header_value("Set-Cookie");
    const size_t eq = cookie.find('='), semi = cookie.find(';');
    if (eq != std::string::npos && r.body.contains("session")) {
      r.session = cookie.substr(eq + 1, semi - eq - 1) + r.body["session"].get<std::string>();
    }
    return r;
  }
  Reply WithCard(const std::string& path, const std::string& label) {
    auto answer = CardAnswer(label, Challenge());
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    return answer.ok() ? Post(path, *answer) : Reply{};
  }
  // The history the session opens: status and the record symbols shown.
  std::pair<int, std::set<std::string>> History(const std::string& session) {
    const size_t half = session.size() / 2;
    httplib::Headers h = {{"Cookie", "ipn_session=" + session.substr(0, half)},
                          {"Authorization", "Bearer " + session.substr(half)}};
    auto res = Http().Get("/api/history", h);
    if (!res) return {0, {}};
    std::set<std::string> symbols;
    nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status == 200) {
      for (const auto& r : j["records"]) symbols.insert(r["record_symbol"].get<std::string>());
    }
    return {res->status, symbols};
  }
  // One settled exchange about the person with `code`; the pension service's symbol for
  // them (their record symbol can be derived once the network has stopped).
  std::vector<uint8_t> ExchangeAbout(const std::string& code, const std::string& ref) {
    net_->IssueSymbol(kMun, code, ref);
    std::vector<uint8_t> at_pen = net_->IssueSymbol(kPen, code, ref);
    interface::InquiryReply reply = net_->Inquire(kPen, at_pen, "np-benefit", kMun, "local-tax");
    EXPECT_EQ(reply.outcome, net_->ExpectedOutcome(kMun, ref, "local-tax")) << reply.explanation;
    return at_pen;
  }

  TempDir tmp_;
  SoftHsm hsm_{tmp_};
  std::unique_ptr<E2eNetwork> net_;
  std::unique_ptr<card::CardIssuer> issuer_;
};

TEST_F(PortalCardE2eTest, ACardEnrolsAndLogsInItsHolderWhoSeesOnlyTheirOwnHistory) {
  const std::string code_a = ResidentCodeFrom("1357924680");
  const std::string code_b = ResidentCodeFrom("8642097531");
  const std::vector<uint8_t> pen_a = ExchangeAbout(code_a, "a");
  const std::vector<uint8_t> pen_b = ExchangeAbout(code_b, "b");
  IssueAndLink("card-a", code_a);
  IssueAndLink("card-b", code_b);

  Reply enrolled = WithCard("/api/enrol", "card-a");
  ASSERT_EQ(enrolled.status, 201) << enrolled.body.dump();
  const auto history_a = History(enrolled.session);
  // A second enrolment of the same card is refused; logging in with it works.
  EXPECT_EQ(WithCard("/api/enrol", "card-a").status, 409);
  Reply login = WithCard("/api/login", "card-a");
  ASSERT_EQ(login.status, 200) << login.body.dump();
  EXPECT_EQ(History(login.session), history_a);

  // B is not enrolled: B's card does not log in until B enrols, then shows B's only.
  EXPECT_EQ(WithCard("/api/login", "card-b").status, 401);
  Reply b = WithCard("/api/enrol", "card-b");
  ASSERT_EQ(b.status, 201) << b.body.dump();
  const auto history_b = History(b.session);
  // Neither session opens anything with half of the other's token.
  const std::string mixed =
      login.session.substr(0, login.session.size() / 2) + b.session.substr(b.session.size() / 2);
  EXPECT_EQ(History(mixed).first, 401);

  // Each saw exactly one person's records: their own (record symbols derived from the
  // symbols the registry issued, once the network has stopped).
  net_->StopAndReadRecords();
  const std::string symbol_a = HexEncode(net_->RecordSymbolOf(pen_a, kPen));
  const std::string symbol_b = HexEncode(net_->RecordSymbolOf(pen_b, kPen));
  EXPECT_NE(symbol_a, symbol_b);
  EXPECT_EQ(history_a, std::make_pair(200, std::set<std::string>{symbol_a}));
  EXPECT_EQ(history_b, std::make_pair(200, std::set<std::string>{symbol_b}));
}

TEST_F(PortalCardE2eTest, AResidentCodeWithoutTheCardEnrolsNobody) {
  const std::string code = ResidentCodeFrom("1357924680");
  ExchangeAbout(code, "a");
  // What the old page sent: a resident code and a key of the browser's. No such door.
  std::array<uint8_t, 32> pk{};
  std::array<uint8_t, 64> sk{};
  crypto_sign_keypair(pk.data(), sk.data());
  Reply by_code =
      Post("/api/enrol", {{"resident_code", code}, {"public_key", Base64UrlEncode(pk)}});
  EXPECT_EQ(by_code.status, 400);
  EXPECT_EQ(by_code.body["error"], "missing challenge");
  // With a real challenge and a made-up certificate and signature: refused by the check.
  Reply forged = Post("/api/enrol", {{"challenge", Challenge()},
                                     {"certificate", Base64UrlEncode(pk)},
                                     {"signature", Base64UrlEncode(sk)}});
  EXPECT_EQ(forged.status, 401) << forged.body.dump();
  // A genuine card of the issuer that was never linked to anyone: no person, no account.
  Issue("card-unlinked", *issuer_);
  Reply unlinked = WithCard("/api/enrol", "card-unlinked");
  EXPECT_EQ(unlinked.status, 403) << unlinked.body.dump();
  EXPECT_NE(unlinked.body["error"].get<std::string>().find("not linked"), std::string::npos);
}

TEST_F(PortalCardE2eTest, RevokedForeignWrongOriginReplayedAndWrongPinAreRefused) {
  const std::string code = ResidentCodeFrom("1357924680");
  IssueAndLink("card-a", code);
  auto refusal = [](const Reply& r) {
    return std::to_string(r.status) + " " +
           (r.body.is_object() && r.body.contains("error") ? r.body["error"].get<std::string>()
                                                           : r.body.dump());
  };

  // A signature for another origin (a phishing site's): refused.
  auto elsewhere = CardAnswer("card-a", Challenge(), kPin, "http://127.0.0.1:1");
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_EQ(Post("/api/enrol", *elsewhere).status, 401);
  // A replayed answer: the first use enrols, the same challenge again is refused.
  auto answer = CardAnswer("card-a", Challenge());
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(Post("/api/enrol", *answer).status, 201);
  Reply replayed = Post("/api/login", *answer);
  EXPECT_EQ(refusal(replayed), "401 the challenge is unknown, used or expired");

  // Another issuer's card, however well made: refused.
  TempDir rogue_dir;
  ASSERT_TRUE(card::CardIssuer::Init(rogue_dir.Sub("issuer"), "rogue issuer", Now()).ok());
  auto rogue = card::CardIssuer::Open(rogue_dir.Sub("issuer"));
  ASSERT_TRUE(rogue.ok());
  Issue("card-rogue", **rogue);
  Reply foreign = WithCard("/api/enrol", "card-rogue");
  EXPECT_EQ(foreign.status, 401) << refusal(foreign);

  // Revoked after enrolment: the portal re-reads the published list and refuses the card.
  const std::string revoked = IssueAndLink("card-revoked", ResidentCodeFrom("8642097531"));
  ASSERT_EQ(WithCard("/api/enrol", "card-revoked").status, 201);
  ASSERT_TRUE(issuer_->Revoke(revoked, Now()).ok());
  Reply after = WithCard("/api/login", "card-revoked");
  EXPECT_EQ(after.status, 401);
  EXPECT_NE(refusal(after).find("revoked"), std::string::npos) << refusal(after);

  // Wrong PINs: the card application refuses to sign; the third locks the card, after
  // which even the right PIN signs nothing, and the portal sees no answer at all.
  for (int i = 0; i < 3; ++i) {
    auto wrong = CardAnswer("card-a", Challenge(), "0000");
    EXPECT_EQ(wrong.status().code(), Status::Code::kPermissionDenied) << i;
  }
  auto locked = CardAnswer("card-a", Challenge());
  ASSERT_FALSE(locked.ok());
  EXPECT_NE(locked.status().message().find("locked"), std::string::npos)
      << locked.status().ToString();
}

TEST_F(PortalCardE2eTest, ACardsOwnAttemptsAreLimitedAndOthersAreStillServed) {
  IssueAndLink("card-a", ResidentCodeFrom("1357924680"));
  IssueAndLink("card-b", ResidentCodeFrom("8642097531"));
  // Enrolment per card: 3 attempts an hour (PortalLimits), counted after the signature
  // checks — a copy of the certificate alone cannot use them up.
  std::vector<int> statuses;
  for (int i = 0; i < 4; ++i) statuses.push_back(WithCard("/api/enrol", "card-a").status);
  EXPECT_EQ(statuses, (std::vector<int>{201, 409, 409, 429}));
  Reply limited = WithCard("/api/enrol", "card-a");
  EXPECT_EQ(limited.status, 429);
  EXPECT_NE(limited.body["error"].get<std::string>().find("try again at"), std::string::npos);
  EXPECT_TRUE(limited.body["retry_at"].is_string());
  // Another card from the same address is served.
  EXPECT_EQ(WithCard("/api/enrol", "card-b").status, 201);
}

}  // namespace
}  // namespace ipn::testing
