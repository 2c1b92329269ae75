// Fuzz target: what the disclosure portal reads from a citizen's browser
// (portal/request_fields.h, portal/history_view.h) — a JSON body as log-in and enrolment
// read a card's answer (selector 0), the Cookie and Authorization headers that carry the session
// (1: split at the first NUL), the period parameters of a history request (2: split
// at the first NUL), and the trust document the portal serves (3: the input is the
// document's text, signed here with a fixed root so that the reader past the signature
// is reached; with bit 2 of the selector set, the input is the whole JSON instead).
#include <sodium.h>

#include <array>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/encoding.h"
#include "fuzz/fuzz_check.h"
#include "portal/history_view.h"
#include "portal/request_fields.h"
#include "portal/trust_document.h"

namespace {

// A fixed root (seed 32 x 0x5a): signing is part of the target, not of the input.
struct FixedRoot {
  std::array<uint8_t, 32> public_key{};
  std::array<uint8_t, 64> secret{};
  FixedRoot() {
    std::array<uint8_t, 32> seed{};
    seed.fill(0x5a);
    crypto_sign_seed_keypair(public_key.data(), secret.data(), seed.data());
  }
};

void TrustDocument(const ipn::fuzz::FuzzInput& in) {
  static const FixedRoot root;
  const std::vector<ipn::records::PublicKey> roots = {root.public_key};
  std::string json;
  if (in.selector & 4) {
    json = std::string(in.rest);
  } else {
    const std::string input = "ipn/portal/trust/v1\n" + std::string(in.rest);
    std::array<uint8_t, 64> sig{};
    crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const uint8_t*>(input.data()),
                         input.size(), root.secret.data());
    // Invalid UTF-8 cannot be a JSON string: such texts go in as escaped bytes, refused.
    nlohmann::json j = {{"text", std::string(in.rest)},
                        {"signer", ipn::HexEncode(root.public_key)},
                        {"signature", ipn::HexEncode(sig)}};
    json = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  auto doc = ipn::portal::VerifyTrustDocument(json, roots);
  if (!doc.ok()) return;
  FUZZ_CHECK(!doc->records_keys.empty() && !doc->witness_keys.empty());
}

std::pair<std::string_view, std::string_view> SplitAtNul(std::string_view s) {
  const size_t nul = s.find('\0');
  if (nul == std::string_view::npos) return {s, {}};
  return {s.substr(0, nul), s.substr(nul + 1)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ipn::fuzz::FuzzInput in(data, size);
  switch (in.selector % 4) {
    case 0: {
      auto body = ipn::portal::ParseJsonObject(in.rest);
      if (!body.ok()) break;
      FUZZ_CHECK(body->is_object());
      auto login = ipn::portal::ParseCardLogin(*body);
      if (login.ok()) {
        FUZZ_CHECK(login->challenge.size() == 32);
        FUZZ_CHECK(!login->card.certificate_der.empty() &&
                   login->card.certificate_der.size() <= ipn::portal::kMaxCertificateBytes);
      }
      (void)ipn::portal::BytesField(*body, "challenge", 32);
      break;
    }
    case 1: {
      const auto [cookie, authorization] = SplitAtNul(in.rest);
      const auto tokens = ipn::portal::SessionTokens(cookie, authorization);
      FUZZ_CHECK(tokens.size() <= ipn::portal::kMaxSessionCookies);
      for (const std::string& token : tokens) {
        FUZZ_CHECK(authorization.substr(0, 7) == "Bearer ");
        FUZZ_CHECK(token.size() > authorization.size() - 7);
        FUZZ_CHECK(token.ends_with(authorization.substr(7)));
      }
      break;
    }
    case 3: TrustDocument(in); break;
    default: {
      const auto [from, to] = SplitAtNul(in.rest);
      auto period = ipn::portal::ParsePeriod(from, to);
      if (period.ok() && period->from_us && period->to_us) {
        FUZZ_CHECK(*period->from_us < *period->to_us);
      }
      break;
    }
  }
  return 0;
}
