// LoginService: proof of possession of the citizen's credential (an Ed25519 key pair made
// in their browser, standing in for the My Number card's user certificate). The portal
// hands out single-use challenges; a signature over "ipn-portal-login-v1:" | challenge by
// an enrolled credential opens a session, named by a random token kept in an HttpOnly
// cookie. Tokens are stored hashed. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"
#include "portal/enrolment_store.h"

namespace ipn::portal {

inline constexpr char kLoginContext[] = "ipn-portal-login-v1:";
inline constexpr int64_t kChallengeLifetimeUs = 120'000'000;
inline constexpr int64_t kSessionLifetimeUs = 15 * 60'000'000LL;

class LoginService {
 public:
  explicit LoginService(const Clock* clock) : clock_(clock) {}

  // 32 random bytes, valid for kChallengeLifetimeUs, usable once.
  std::array<uint8_t, 32> NewChallenge();

  // Consumes `challenge` (whatever the outcome) and checks `signature` by `credential`
  // over kLoginContext | challenge. On success returns a new session token (base64url).
  Result<std::string> Login(const CredentialKey& credential, std::string_view challenge,
                            std::string_view signature);

  // The credential whose session `token` names; Unauthenticated-style PermissionDenied
  // when unknown or expired.
  Result<CredentialKey> SessionOwner(std::string_view token);
  void Logout(std::string_view token);

 private:
  static std::string Digest(std::string_view bytes);
  void ExpireLocked(int64_t now);

  const Clock* clock_;
  std::mutex mu_;
  std::unordered_map<std::string, int64_t> challenges_;  // digest -> expiry
  struct Session {
    CredentialKey credential;
    int64_t expires_us;
  };
  std::unordered_map<std::string, Session> sessions_;  // digest of token -> session
  int64_t next_expiry_us_ = 0;
};

}  // namespace ipn::portal
