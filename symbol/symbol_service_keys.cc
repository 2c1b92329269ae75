// SymbolService, the key ring's lifecycle: every change (an agency's first keys, a
// rotation, a destroyed version, a new records key, a new passphrase or token) made on a
// copy of the ring, saved, and only then swapped in.
#include <optional>

#include "symbol/symbol_service.h"

namespace ipn::symbol {

template <typename Change>
Status SymbolService::ChangeRing(Change&& change) {
  std::lock_guard<std::mutex> write_lock(ring_write_mu_);
  std::optional<KeyRing> copy;
  {
    std::shared_lock<std::shared_mutex> read_lock(ring_mu_);
    copy.emplace(ring_->Clone());
  }
  bool changed = true;
  IPN_RETURN_IF_ERROR(change(*copy, &changed));
  if (!changed) return Status::Ok();
  Status saved = ring_file_->Save(*copy);
  if (!saved.ok()) return saved.WithContext("cannot save the key ring; nothing was changed");
  auto fresh = std::make_unique<KeyRing>(std::move(*copy));
  {
    std::unique_lock<std::shared_mutex> swap_lock(ring_mu_);
    ring_.swap(fresh);
  }
  return Status::Ok();  // `fresh` (the old ring) is wiped as it goes out of scope
}

Status SymbolService::EnsureAgencyKeys(std::string_view agency_code) {
  {
    std::shared_lock<std::shared_mutex> lock(ring_mu_);
    if (ring_->FindAgency(agency_code) != nullptr) return Status::Ok();
  }
  IPN_RETURN_IF_ERROR(ValidateAgencyCode(agency_code));
  if (!options_.create_agency_keys) {
    return Status::FailedPrecondition(
        "agency " + std::string(agency_code) +
        " has no keys in this key ring: the sites of a replicated core share one key ring, so "
        "create the agency's keys (ipn keys rotate) and copy the ring to every site first");
  }
  bool added = false;
  Status s = ChangeRing([&](KeyRing& ring, bool* changed) {
    if (ring.FindAgency(agency_code) != nullptr) {
      *changed = false;
      return Status::Ok();
    }
    added = true;
    const std::string before = ring.Summary();
    IPN_RETURN_IF_ERROR(ring.AddAgency(agency_code, Now()));
    // Told before the ring is saved, under the write lock: a journal line for a change that
    // then fails to save names a state the ring never reaches (harmless); one written after
    // could be lost to a crash, or race a concurrent creation's line.
    if (options_.on_agency_keys_created) {
      options_.on_agency_keys_created(agency_code, before, ring.Summary());
    }
    return Status::Ok();
  });
  if (s.ok() && added) {
    Log("symbol.agency_keys_created", {{"agency", agency_code}, {"version", 1}});
  }
  return s;
}

Result<uint16_t> SymbolService::RotateAgencyKey(std::string_view agency_code) {
  IPN_RETURN_IF_ERROR(ValidateAgencyCode(agency_code));
  uint16_t version = 0;
  IPN_RETURN_IF_ERROR(ChangeRing([&](KeyRing& ring, bool*) {
    auto v = ring.RotateAgency(agency_code, Now());
    if (!v.ok()) return v.status();
    version = *v;
    return Status::Ok();
  }));
  Log("symbol.agency_key_rotated", {{"agency", agency_code}, {"version", version}});
  return version;
}

Status SymbolService::DestroyKeyVersion(std::string_view agency_code, uint16_t version) {
  IPN_RETURN_IF_ERROR(ValidateAgencyCode(agency_code));
  IPN_RETURN_IF_ERROR(ChangeRing([&](KeyRing& ring, bool*) {
    return ring.DestroyAgencyVersion(agency_code, version, Now());
  }));
  Log("symbol.agency_key_destroyed", {{"agency", agency_code}, {"version", version}});
  return Status::Ok();
}

std::vector<KeyInfo> SymbolService::ListKeys() const {
  std::shared_lock<std::shared_mutex> lock(ring_mu_);
  return ring_->List();
}

std::string SymbolService::KeySummary() const {
  std::shared_lock<std::shared_mutex> lock(ring_mu_);
  return ring_->Summary();
}

Result<uint32_t> SymbolService::RotateRecordEncryptionKey() {
  uint32_t version = 0;
  IPN_RETURN_IF_ERROR(ChangeRing([&](KeyRing& ring, bool*) {
    version = ring.RotateRecordEncryptionKey();
    return Status::Ok();
  }));
  Log("symbol.record_key_rotated", {{"version", version}});
  return version;
}

// The ring saved through `updated` (a new passphrase or token), which then replaces the
// file object; on failure the file on disk and the object are unchanged.
Status SymbolService::ReplaceRingFile(Result<KeyRingFile> updated) {
  if (!updated.ok()) return updated.status();
  {
    std::shared_lock<std::shared_mutex> lock(ring_mu_);
    Status saved = updated->Save(*ring_);
    if (!saved.ok()) return saved.WithContext("cannot save the key ring; nothing was changed");
  }
  *ring_file_ = std::move(updated).value();
  return Status::Ok();
}

Status SymbolService::ChangePassphrase(std::string_view new_passphrase, KdfStrength strength) {
  std::lock_guard<std::mutex> write_lock(ring_write_mu_);
  IPN_RETURN_IF_ERROR(ReplaceRingFile(ring_file_->WithNewPassphrase(new_passphrase, strength)));
  Log("symbol.passphrase_changed", {{"kdf", KdfStrengthName(strength)}});
  return Status::Ok();
}

Status SymbolService::ProtectWith(const KeyWrapper& wrapper) {
  std::lock_guard<std::mutex> write_lock(ring_write_mu_);
  IPN_RETURN_IF_ERROR(ReplaceRingFile(ring_file_->WithWrapper(wrapper)));
  Log("symbol.keyring_protected", {{"by", wrapper.Describe()}});
  return Status::Ok();
}

std::string SymbolService::protection() const {
  auto d = KeyRingFile::DescribeProtection(ring_file_->path());
  return d.ok() ? *d : "unknown (" + d.status().message() + ")";
}

Result<RecordKeys> SymbolService::GetRecordKeys() const {
  std::shared_lock<std::shared_mutex> lock(ring_mu_);
  return ring_->CloneRecordKeys();
}

}  // namespace ipn::symbol
