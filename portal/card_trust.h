// CardTrust: which cards the portal believes — its pinned card issuer's certificate and
// that issuer's current revocation list, both files the issuer publishes. The list is
// re-read whenever its file changes (the issuer republishes it at each revocation and
// before it expires), so a revoked card is refused from the next attempt on and its open
// sessions end at their next use; a list that cannot be read, has expired, or is older
// than one this portal has already seen (a rollback that could hide a revocation) refuses
// every card (fail closed). Thread-safe.
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
  // Loads both files now: a portal that cannot check cards does not start. `seen_path`,
  // when given, keeps the issue time of the newest list seen across restarts (a file in
  // the portal's data directory), so a rollback is refused after a restart too.
  static Result<std::unique_ptr<CardTrust>> Load(std::string issuer_certificate_path,
                                                 std::string revocation_list_path,
                                                 std::string seen_path = "");

  // The card's serial when `signed_` is a current card's signature over `origin` and
  // `challenge` (card::CardVerifier::Verify); PermissionDenied saying what failed.
  Result<std::string> Verify(const card::CardSignature& signed_, std::string_view origin,
                             std::span<const uint8_t> challenge, int64_t now_s);
  // Whether the card behind an open session is still good (not revoked since, the list
  // current): PermissionDenied otherwise, and the session should end.
  Status CheckCard(std::string_view serial, int64_t now_s);

 private:
  CardTrust() = default;
  // Reloads when the list's file changed since the last load.
  Status RefreshLocked();

  std::string certificate_path_;
  std::string revocation_list_path_;
  std::string seen_path_;
  std::mutex mu_;
  std::unique_ptr<card::CardVerifier> verifier_;  // null: the last reload failed
  std::string load_error_;
  timespec list_mtime_{};
  off_t list_size_ = -1;
  ino_t list_inode_ = 0;
  int64_t newest_issued_s_ = 0;  // the newest list seen: an older one is a rollback
};

}  // namespace ipn::portal
