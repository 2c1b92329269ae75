// Fuzz target: what the disclosure portal reads from a citizen's browser
// (portal/request_fields.h, portal/history_view.h) — a JSON body as log-in and enrolment
// read a card's answer (selector 0), the Cookie and Authorization headers that carry the session
// (1: split at the first NUL), and the period parameters of a history request (2: split
// at the first NUL).
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "portal/history_view.h"
#include "portal/request_fields.h"

namespace {

std::pair<std::string_view, std::string_view> SplitAtNul(std::string_view s) {
  const size_t nul = s.find('\0');
  if (nul == std::string_view::npos) return {s, {}};
  return {s.substr(0, nul), s.substr(nul + 1)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ipn::fuzz::FuzzInput in(data, size);
  switch (in.selector % 3) {
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
