// Decision: the answer to "may agency X ask agency Y for item Z for business W at time T?"
// with its reason. A Decision is made without allocating (it carries indexes into the Policy
// that decided and a reference to it); the human explanation is formatted only when someone
// asks for it with Explain().
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ipn::policy {

class Policy;
class PolicyStore;

// Numbers equal ipn.v1.DenyReason in proto/ipn/v1/wire.proto.
enum class DenyReason {
  kNone = 0,
  kUnknownInquirer = 1,
  kUnknownProvider = 2,
  kInquirerNotActive = 3,
  kProviderNotActive = 4,
  kNoAssessment = 5,
  kNoSuchLink = 6,
  kOutsideEffectivePeriod = 7,
  kRateLimited = 8,
  kUnknownItem = 13,
  kUnknownBusiness = 14,
};

// "NO_SUCH_LINK" etc. (the wire enum's name without its prefix).
const char* DenyReasonName(DenyReason reason);

// A code taken from a request, made safe to echo in an explanation (and so in logs):
// quoted, printable ASCII only, at most kMaxEchoedCode characters then "...".
constexpr size_t kMaxEchoedCode = 64;
std::string EchoCode(std::string_view code);

struct Decision {
  bool allowed = false;
  DenyReason reason = DenyReason::kNone;
  // 1-based data row of links.csv that allowed it; for kOutsideEffectivePeriod the row whose
  // period excludes the time; -1 otherwise.
  int row = -1;
  uint64_t policy_version = 0;  // the bundle that decided

  // Which row allowed it, or which check failed; names the policy version. Formatted on
  // each call from the Policy that decided (kept alive by this Decision), so deciding never
  // pays for the text; callers that send or log it call this once.
  std::string Explain() const;

 private:
  friend class Policy;
  friend class PolicyStore;

  // The check that decided: finer than `reason` (kNoAssessment and kNoSuchLink each have two
  // causes, kUnknownInquirer also means "no policy").
  enum class Step : uint8_t {
    kNone,  // a default-constructed Decision: no explanation
    kNoPolicy,
    kUnknownInquirer,
    kInquirerNotActive,
    kInquirerNotAssessed,
    kUnknownProvider,
    kProviderNotActive,
    kProviderNotAssessed,
    kUnknownBusiness,
    kUnknownItem,
    kInquirerNotAParty,
    kProviderNotAParty,
    kOutsideEffectivePeriod,
    kNoSuchLink,
    kAllowed,
    kRateLimited,
  };
  // Keeps the first kMaxEchoedCode bytes of an unknown code from the request: the request's
  // buffers may be gone by the time Explain() runs, and a copy here needs no allocation.
  void KeepEcho(std::string_view code);

  Step step_ = Step::kNone;
  bool inquirer_known_ = false;  // inquirer_ is valid (the rate limiter needs the agency)
  bool echo_truncated_ = false;
  uint8_t echo_size_ = 0;
  // Indexes into the deciding policy's agencies(), businesses(), items() and links(); each
  // valid once the check that finds it has passed.
  uint32_t inquirer_ = 0, provider_ = 0, business_ = 0, item_ = 0, link_ = 0;
  int64_t at_unix_us_ = 0;
  std::array<char, kMaxEchoedCode> echo_{};
  // Copying a shared_ptr is an atomic increment, not an allocation; it keeps the names that
  // Explain() reads alive across a policy reload.
  std::shared_ptr<const Policy> policy_;
};

}  // namespace ipn::policy
