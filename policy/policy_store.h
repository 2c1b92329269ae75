// PolicyStore: the policy bundle in force. Load verifies a signed bundle (administrator's
// Ed25519 signature, a version newer than the one in force, contents that name only known
// agencies, classes, businesses and items) and swaps it in atomically; a refused bundle
// changes nothing. Decisions in flight keep the Policy they started with. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "policy/policy.h"
#include "policy/rate_limiter.h"

namespace ipn::policy {

class PolicyStore {
 public:
  explicit PolicyStore(std::array<uint8_t, 32> admin_public_key);
  PolicyStore(const PolicyStore&) = delete;
  PolicyStore& operator=(const PolicyStore&) = delete;

  // A last check of a verified, newer bundle before it is swapped in: the policy in force
  // (nullptr before the first load) and the candidate. A refusal leaves the policy in
  // force unchanged (the core's two-person rule for agency status changes).
  using LoadGate = std::function<Status(const Policy* in_force, const Policy& candidate)>;

  // A signed bundle file (ipn policy compile + sign).
  Status Load(std::span<const uint8_t> signed_bundle, const LoadGate& gate = {});
  Status LoadFile(const std::string& path);

  // The policy in force; nullptr before the first successful Load.
  std::shared_ptr<const Policy> Current() const;

  // Check against the policy in force, then one token from the inquirer's bucket (rate and
  // burst from the directory). Every inquiry of a known inquirer costs a token, allowed or
  // not; an allowed one finding the bucket empty becomes kRateLimited. With no policy loaded
  // every inquiry is denied (kUnknownInquirer).
  Decision CheckAndCharge(std::string_view inquirer, std::string_view business,
                          std::string_view provider, std::string_view item, int64_t now_unix_us);

  // The two halves, for a caller that charges before it looks at anything else (the core:
  // a flooding agency is held to its rate before its inquiries are parsed or recorded).
  // Charge: one token from the inquirer's bucket; false when it is empty. An inquirer the
  // directory does not know has no bucket and is not held here (Check refuses it).
  // When it is refused and `retry_at_us` is given, it says when a token will be there.
  bool Charge(std::string_view inquirer, int64_t now_unix_us, int64_t* retry_at_us = nullptr);
  // Check against the policy in force, charging nothing.
  Decision Check(std::string_view inquirer, std::string_view business, std::string_view provider,
                 std::string_view item, int64_t now_unix_us) const;

 private:
  const std::array<uint8_t, 32> admin_public_key_;
  std::mutex load_mu_;  // one Load at a time, so the version check and swap are one step
  // Guards current_ only (held for a pointer copy). Not std::atomic<std::shared_ptr>:
  // libstdc++ 12's implementation is reported racy by ThreadSanitizer.
  mutable std::mutex current_mu_;
  std::shared_ptr<const Policy> current_;
  RateLimiter limiter_;
};

}  // namespace ipn::policy
