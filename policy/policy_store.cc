// PolicyStore: verified loading, atomic replacement, and rate-limited decisions.
#include "policy/policy_store.h"

#include <sodium.h>

#include <cstdlib>
#include <utility>

#include "common/encoding.h"
#include "common/file_util.h"
#include "policy/bundle.h"

namespace ipn::policy {

PolicyStore::PolicyStore(std::array<uint8_t, 32> admin_public_key)
    : admin_public_key_(admin_public_key) {
  if (sodium_init() < 0) std::abort();
}

Status PolicyStore::Load(std::span<const uint8_t> signed_bundle, const LoadGate& gate) {
  auto bytes = VerifyBundle(signed_bundle, admin_public_key_);
  if (!bytes.ok()) return bytes.status().WithContext("policy bundle refused");
  auto policy = Policy::FromBundleBytes(*bytes);
  if (!policy.ok()) return policy.status().WithContext("policy bundle refused");
  std::lock_guard lock(load_mu_);
  const std::shared_ptr<const Policy> current = Current();
  if (current != nullptr && (*policy)->version() <= current->version()) {
    return Status::FailedPrecondition(
        "policy bundle refused: version " + std::to_string((*policy)->version()) +
        " is not newer than version " + std::to_string(current->version()) + " in force");
  }
  if (gate) IPN_RETURN_IF_ERROR(gate(current.get(), **policy).WithContext("policy bundle refused"));
  std::shared_ptr<const Policy> old;  // released outside the lock
  {
    std::lock_guard current_lock(current_mu_);
    old = std::exchange(current_, std::move(*policy));
  }
  return Status::Ok();
}

Status PolicyStore::LoadFile(const std::string& path) {
  auto contents = ReadFile(path);
  if (!contents.ok()) return contents.status().WithContext("policy bundle refused");
  return Load(AsBytes(*contents)).WithContext(path);
}

std::shared_ptr<const Policy> PolicyStore::Current() const {
  std::lock_guard lock(current_mu_);
  return current_;
}

Decision PolicyStore::CheckAndCharge(std::string_view inquirer, std::string_view business,
                                     std::string_view provider, std::string_view item,
                                     int64_t now_unix_us) {
  const std::shared_ptr<const Policy> policy = Current();
  if (policy == nullptr) return Check(inquirer, business, provider, item, now_unix_us);
  Decision decision = policy->Check(inquirer, business, provider, item, now_unix_us);
  if (!decision.inquirer_known_) return decision;  // unknown inquirers have no bucket
  const Agency& asker = policy->agencies()[decision.inquirer_];
  const bool have_token =
      limiter_.TryAcquire(asker.code, asker.rate_per_second, asker.burst, now_unix_us);
  if (!have_token && decision.allowed) {
    decision.allowed = false;
    decision.reason = DenyReason::kRateLimited;
    decision.row = -1;
    decision.step_ = Decision::Step::kRateLimited;
  }
  return decision;
}

bool PolicyStore::Charge(std::string_view inquirer, int64_t now_unix_us, int64_t* retry_at_us) {
  const std::shared_ptr<const Policy> policy = Current();
  if (policy == nullptr) return true;
  const Agency* asker = policy->FindAgency(inquirer);
  if (asker == nullptr) return true;
  return limiter_.TryAcquire(asker->code, asker->rate_per_second, asker->burst, now_unix_us,
                             retry_at_us);
}

Decision PolicyStore::Check(std::string_view inquirer, std::string_view business,
                            std::string_view provider, std::string_view item,
                            int64_t now_unix_us) const {
  const std::shared_ptr<const Policy> policy = Current();
  if (policy == nullptr) {
    Decision d;
    d.reason = DenyReason::kUnknownInquirer;
    d.step_ = Decision::Step::kNoPolicy;
    return d;
  }
  return policy->Check(inquirer, business, provider, item, now_unix_us);
}

}  // namespace ipn::policy
