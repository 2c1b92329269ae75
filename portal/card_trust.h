// CardTrust: which cards the portal believes — its pinned card issuer's certificate and
// that issuer's current revocation list, both files the issuer publishes. The list is
// re-read whenever its file changes (the issuer republishes it at each revocation and
// before it expires), so a revoked card is refused from the next attempt on; a list that
// cannot be read or has expired refuses every card (fail closed). Thread-safe.
#pragma once

#include <ctime>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "card/card.h"
#include "common/status.h"

namespace ipn::portal {

class CardTrust {
 public:
  // Loads both files now: a portal that cannot check cards does not start.
  static Result<std::unique_ptr<CardTrust>> Load(std::string issuer_certificate_path,
                                                 std::string revocation_list_path);

  // The card's serial when `signed_` is a current card's signature over `origin` and
  // `challenge` (card::CardVerifier::Verify); PermissionDenied saying what failed.
  Result<std::string> Verify(const card::CardSignature& signed_, std::string_view origin,
                             std::span<const uint8_t> challenge, int64_t now_s);

 private:
  CardTrust() = default;
  // Reloads when the list's file changed since the last load.
  Status RefreshLocked();

  std::string certificate_path_;
  std::string revocation_list_path_;
  std::mutex mu_;
  std::unique_ptr<card::CardVerifier> verifier_;  // null: the last reload failed
  std::string load_error_;
  timespec list_mtime_{};
  off_t list_size_ = -1;
};

}  // namespace ipn::portal
