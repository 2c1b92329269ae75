// Decision: the explanation text, formatted on demand from the Policy that decided. The
// wording is pinned by tests/policy/explanation_test.cc (it is sent to inquirers and logged).
#include "policy/decision.h"

#include <algorithm>
#include <initializer_list>

#include "policy/jst_date.h"
#include "policy/policy.h"

namespace ipn::policy {
namespace {

const char* StatusWord(AgencyStatus s) {
  switch (s) {
    case AgencyStatus::kActive: return "active";
    case AgencyStatus::kSuspended: return "suspended";
    case AgencyStatus::kRetired: return "retired";
  }
  return "unknown";
}

// Appends each part: one growing string instead of a temporary per `+`.
void Cat(std::string* out, std::initializer_list<std::string_view> parts) {
  for (std::string_view part : parts) out->append(part);
}

void AppendPeriod(std::string* out, const PermittedLink& link) {
  Cat(out,
      {"effective ", link.effective_from, " to ",
       link.effective_to.empty() ? std::string_view("open-ended") : link.effective_to, " (JST)"});
}

// `code` quoted, printable ASCII only; "..." when the code was longer than what is shown.
void AppendEcho(std::string* out, std::string_view code, bool truncated) {
  out->push_back('\'');
  for (size_t i = 0; i < code.size() && i < kMaxEchoedCode; ++i) {
    const char c = code[i];
    out->push_back((c >= 0x20 && c < 0x7f && c != '\'') ? c : '?');
  }
  if (truncated || code.size() > kMaxEchoedCode) out->append("...");
  out->push_back('\'');
}

}  // namespace

const char* DenyReasonName(DenyReason reason) {
  switch (reason) {
    case DenyReason::kNone: return "NONE";
    case DenyReason::kUnknownInquirer: return "UNKNOWN_INQUIRER";
    case DenyReason::kUnknownProvider: return "UNKNOWN_PROVIDER";
    case DenyReason::kInquirerNotActive: return "INQUIRER_NOT_ACTIVE";
    case DenyReason::kProviderNotActive: return "PROVIDER_NOT_ACTIVE";
    case DenyReason::kNoAssessment: return "NO_ASSESSMENT";
    case DenyReason::kNoSuchLink: return "NO_SUCH_LINK";
    case DenyReason::kOutsideEffectivePeriod: return "OUTSIDE_EFFECTIVE_PERIOD";
    case DenyReason::kRateLimited: return "RATE_LIMITED";
    case DenyReason::kUnknownItem: return "UNKNOWN_ITEM";
    case DenyReason::kUnknownBusiness: return "UNKNOWN_BUSINESS";
  }
  return "UNKNOWN";
}

std::string EchoCode(std::string_view code) {
  std::string out;
  AppendEcho(&out, code, /*truncated=*/false);
  return out;
}

void Decision::KeepEcho(std::string_view code) {
  echo_size_ = static_cast<uint8_t>(std::min(code.size(), kMaxEchoedCode));
  std::copy_n(code.data(), echo_size_, echo_.data());
  echo_truncated_ = code.size() > kMaxEchoedCode;
}

std::string Decision::Explain() const {
  if (step_ == Step::kNoPolicy) return "no policy bundle is loaded";
  if (step_ == Step::kNone || policy_ == nullptr) return "";
  const Policy& p = *policy_;
  const Agency* asker = inquirer_known_ ? &p.agencies()[inquirer_] : nullptr;
  auto holder = [&]() -> const Agency& { return p.agencies()[provider_]; };
  // The kept bytes echo exactly as the request's own code would: AppendEcho shows at most
  // kMaxEchoedCode bytes, and echo_truncated_ stands for the rest.
  auto echo = [this](std::string* out) {
    AppendEcho(out, std::string_view(echo_.data(), echo_size_), echo_truncated_);
  };
  std::string text;
  text.reserve(256);  // the longest usual text (an allowed row's citation) fits
  switch (step_) {
    case Step::kNone:
    case Step::kNoPolicy: break;  // answered above
    case Step::kUnknownInquirer:
      text = "inquirer ";
      echo(&text);
      text += " is not in the agency directory";
      break;
    case Step::kInquirerNotActive:
      Cat(&text, {"inquirer ", asker->code, " is ", StatusWord(asker->status)});
      break;
    case Step::kInquirerNotAssessed:
      Cat(&text, {"inquirer ", asker->code, " has no approved privacy impact assessment"});
      break;
    case Step::kUnknownProvider:
      text = "provider ";
      echo(&text);
      text += " is not in the agency directory";
      break;
    case Step::kProviderNotActive:
      Cat(&text, {"provider ", holder().code, " is ", StatusWord(holder().status)});
      break;
    case Step::kProviderNotAssessed:
      Cat(&text, {"provider ", holder().code, " has no approved privacy impact assessment"});
      break;
    case Step::kUnknownBusiness:
      text = "business ";
      echo(&text);
      text += " is not known";
      break;
    case Step::kUnknownItem:
      text = "item ";
      echo(&text);
      text += " is not known";
      break;
    case Step::kInquirerNotAParty:
    case Step::kProviderNotAParty: {
      const Agency& party = step_ == Step::kInquirerNotAParty ? *asker : holder();
      Cat(&text, {"agency ", party.code, " is of class ", party.agency_class,
                  ", which is not a party to permitted links"});
      break;
    }
    case Step::kOutsideEffectivePeriod: {
      const PermittedLink& link = p.links()[link_];
      Cat(&text, {"links row ", std::to_string(link.row), " (", link.inquirer, " may ask ",
                  link.provider, " for item ", link.item, " for business ", link.business,
                  ") is not in effect on ", JstDateOf(at_unix_us_), " (JST): "});
      AppendPeriod(&text, link);
      break;
    }
    case Step::kNoSuchLink:
      Cat(&text, {"no permitted link lets ", asker->code, " (", asker->agency_class, ") ask ",
                  holder().code, " (", holder().agency_class, ") for item ", p.items()[item_].code,
                  " for business ", p.businesses()[business_].code});
      break;
    case Step::kAllowed: {
      const PermittedLink& link = p.links()[link_];
      Cat(&text, {"permitted by links row ", std::to_string(link.row), ": ", link.inquirer,
                  link.inquirer_is_class ? " (class)" : "", " may ask ", link.provider,
                  link.provider_is_class ? " (class)" : "", " for item ", link.item,
                  " for business ", link.business, ", "});
      AppendPeriod(&text, link);
      Cat(&text, {"; legal basis: ",
                  link.legal_basis.empty() ? std::string_view("not recorded") : link.legal_basis});
      break;
    }
    case Step::kRateLimited:
      Cat(&text, {"inquirer ", asker->code, " is over its rate limit (",
                  std::to_string(static_cast<int64_t>(asker->rate_per_second)),
                  " per second, burst ", std::to_string(static_cast<int64_t>(asker->burst)), ")"});
      break;
  }
  Cat(&text, {"; policy version ", std::to_string(policy_version)});
  return text;
}

}  // namespace ipn::policy
