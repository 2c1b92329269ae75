// CardTrust: the pinned issuer and its revocation list, reloaded when the list changes.
#include "portal/card_trust.h"

#include <sys/stat.h>

#include <cstdlib>

#include "common/file_util.h"

namespace ipn::portal {

Result<std::unique_ptr<CardTrust>> CardTrust::Load(std::string issuer_certificate_path,
                                                   std::string revocation_list_path,
                                                   std::string seen_path) {
  std::unique_ptr<CardTrust> trust(new CardTrust());
  trust->certificate_path_ = std::move(issuer_certificate_path);
  trust->revocation_list_path_ = std::move(revocation_list_path);
  trust->seen_path_ = std::move(seen_path);
  if (!trust->seen_path_.empty()) {
    Result<std::string> seen = ReadFile(trust->seen_path_);
    if (seen.ok()) {
      char* end = nullptr;
      const long long s = std::strtoll(seen->c_str(), &end, 10);
      if (end == seen->c_str() || s < 0) {
        return Status::Corruption(trust->seen_path_ +
                                  " is damaged: remove it only if the issuer's "
                                  "current revocation list is in place");
      }
      trust->newest_issued_s_ = s;
    }
  }
  std::lock_guard lock(trust->mu_);
  IPN_RETURN_IF_ERROR(trust->RefreshLocked());
  return trust;
}

Status CardTrust::RefreshLocked() {
  struct stat st {};
  if (stat(revocation_list_path_.c_str(), &st) != 0) {
    verifier_.reset();
    load_error_ = "the card revocation list " + revocation_list_path_ + " cannot be read";
    list_size_ = -1;
    return Status::Unavailable(load_error_);
  }
  // The issuer replaces the file by rename (a new inode, a new mtime): any change of
  // inode, time or size means a new list.
  if (verifier_ && st.st_mtim.tv_sec == list_mtime_.tv_sec &&
      st.st_mtim.tv_nsec == list_mtime_.tv_nsec && st.st_size == list_size_ &&
      st.st_ino == list_inode_) {
    return Status::Ok();
  }
  list_mtime_ = st.st_mtim;
  list_size_ = st.st_size;
  list_inode_ = st.st_ino;
  Result<std::unique_ptr<card::CardVerifier>> loaded =
      card::CardVerifier::Load(certificate_path_, revocation_list_path_);
  if (!loaded.ok()) {
    verifier_.reset();
    load_error_ = loaded.status().message();
    return loaded.status();
  }
  if ((*loaded)->issued_at_s() < newest_issued_s_) {
    verifier_.reset();
    load_error_ =
        "the card revocation list was replaced by an older one; no card is accepted "
        "until the issuer publishes a current list";
    return Status::PermissionDenied(load_error_);
  }
  if ((*loaded)->issued_at_s() > newest_issued_s_ && !seen_path_.empty()) {
    // Kept before the list is used: a list the portal trusted is never followed by an
    // older one, even across a restart.
    IPN_RETURN_IF_ERROR(
        WriteFileAtomic(seen_path_, std::to_string((*loaded)->issued_at_s()) + "\n"));
  }
  newest_issued_s_ = (*loaded)->issued_at_s();
  verifier_ = std::move(*loaded);
  load_error_.clear();
  return Status::Ok();
}

Status CardTrust::CheckCard(std::string_view serial, int64_t now_s) {
  std::lock_guard lock(mu_);
  if (Status s = RefreshLocked(); !s.ok()) {
    return Status::PermissionDenied("cards cannot be checked now: " + s.message());
  }
  return verifier_->CheckSerial(serial, now_s);
}

Result<std::string> CardTrust::Verify(const card::CardSignature& signed_, std::string_view origin,
                                      std::span<const uint8_t> challenge, int64_t now_s) {
  std::lock_guard lock(mu_);
  if (Status s = RefreshLocked(); !s.ok()) {
    return Status::PermissionDenied("cards cannot be checked now: " + s.message());
  }
  return verifier_->Verify(signed_, origin, challenge, now_s);
}

}  // namespace ipn::portal
