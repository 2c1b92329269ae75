// The core's keys at start: the key ring, opened with its passphrase or — when its header
// names a PKCS#11 token — with that token's key-encryption key; and then the records
// signing key inside the same token, so tree heads and purges are signed there
// (docs/security.md). A token that is absent, a wrong PIN or a token without the ring's
// signing key stops the start with a message saying which.
#include "common/file_util.h"
#include "common/wipe_guard.h"
#include "core/core_router_impl.h"
#include "policy/key_change.h"
#include "symbol/key_ring_file.h"
#include "token/pkcs11_token.h"

namespace ipn::core {

Status CoreRouter::Impl::OpenKeyRing() {
  WipeOnExit wipe_secret(&options_.key_ring_passphrase);  // the passphrase or PIN, on every path
  symbol::SymbolServiceOptions sopts;
  sopts.kdf =
      options_.fast_kdf ? symbol::KdfStrength::kMinimumForTests : symbol::KdfStrength::kInteractive;
  sopts.logger = log_;
  sopts.create_agency_keys = options_.etcd_endpoints.empty();  // sites share one key ring
  const std::string dir = options_.data_dir + "/symbols";
  // An agency's first keys, made at its first use, journalled like every key change so that
  // the chain the next start checks stays unbroken (policy/key_change.h).
  sopts.on_agency_keys_created = [dir, log = log_](std::string_view agency,
                                                   const std::string& before,
                                                   const std::string& after) {
    Status s = policy::JournalKeyCreation(dir, before, after, agency, "core");
    if (!s.ok())
      log->Error("key_journal_failed", {{"agency", std::string(agency)}, {"error", s.message()}});
  };
  Result<std::string> protection =
      symbol::KeyRingFile::DescribeProtection(dir + "/" + symbol::SymbolService::kKeyRingFileName);
  if (protection.ok() && *protection != "passphrase") {
    Result<token::KeyLocator> locator = token::ParseKeyLocator(*protection);
    if (!locator.ok()) return locator.status().WithContext("key ring");
    IPN_RETURN_IF_ERROR(token::CheckModule(*locator, options_.token_module));
    auto opened = token::Pkcs11Token::Open(locator->address, options_.key_ring_passphrase);
    if (!opened.ok()) return opened.status().WithContext("the key ring's token");
    token_ = std::move(*opened);
    auto wrapper = token_->MakeWrapper(locator->object);
    if (!wrapper.ok()) return wrapper.status().WithContext("the key ring's token");
    ring_wrapper_ = std::move(*wrapper);
    sopts.key_wrapper = ring_wrapper_.get();
  }
  // A missing or damaged ring file falls through: SymbolService::Open says what is wrong.
  auto symbols = symbol::SymbolService::Open(dir, options_.key_ring_passphrase, sopts);
  WipeString(&options_.key_ring_passphrase);
  options_.key_ring_passphrase.clear();
  ring_wrapper_.reset();  // the ring is open; its file key stays with the SymbolService
  if (!symbols.ok()) return symbols.status().WithContext("symbols");
  symbols_ = std::move(*symbols);
  if (token_ == nullptr) return Status::Ok();

  auto signer = token_->MakeSigner(token::kDefaultRecordsSigningLabel);
  if (!signer.ok()) return signer.status().WithContext("the records signing key");
  Result<symbol::RecordKeys> keys = symbols_->GetRecordKeys();
  if (!keys.ok()) return keys.status();
  // Every site signs the same heads with the same key; a token holding another key would
  // fork the log's signer.
  if ((*signer)->public_key() != keys->signing_public_key) {
    return Status::FailedPrecondition("token " + token_->address().token +
                                      " holds another records signing key than this "
                                      "key ring's (" +
                                      token::kDefaultRecordsSigningLabel + ")");
  }
  records_signer_ = std::move(*signer);
  log_->Info("core_keys_in_token", {{"token", token_->address().Describe()},
                                    {"signing_key", token::kDefaultRecordsSigningLabel}});
  return Status::Ok();
}

// A copy of the roster beside the key ring, where `ipn keys` (offline, given only the
// ring's directory) finds it: the two-person rule applies to key changes without anyone
// having to name the roster.
Status CoreRouter::Impl::KeepRosterBesideRing() const {
  Result<std::string> text = ReadFile(options_.operator_roster_file);
  if (!text.ok()) return text.status().WithContext("operator roster");
  const std::string copy = options_.data_dir + "/symbols/operator_roster.txt";
  Result<std::string> kept = ReadFile(copy);
  if (kept.ok() && *kept == *text) return Status::Ok();
  return WriteFileAtomic(copy, *text)
      .WithContext("copying the operator roster beside the key ring");
}

// Who made the key ring's changes since the last start, change by change, as the journal
// beside the ring says and the roster confirms (policy::KeyChangeChain).
KeyChangeActors CoreRouter::Impl::KeyChangeActorsOf(const std::string& before,
                                                    const std::string& after) const {
  const policy::OperatorRoster* roster = roster_ ? &*roster_ : nullptr;
  const bool required = roster != nullptr && roster->rules.count(policy::kKeyChangeAction) != 0;
  Result<std::vector<policy::KeyChangeStep>> chain =
      policy::KeyChangeChain(options_.data_dir + "/symbols", before, after, roster);
  KeyChangeActors out;
  if (chain.ok()) {
    for (const policy::KeyChangeStep& step : *chain) {
      for (const std::string& entry : step.added) {  // a later step's credit wins
        out.by_key[entry] = step.actor.empty() ? "operator" : step.actor;
      }
    }
    return out;
  }
  if (!required) return out;
  // The roster requires approvals and a change has none that verify: recorded as such,
  // for the commission to see; the core still starts (its keys are what they are).
  log_->Error("key_change_unapproved", {{"reason", chain.status().message()}});
  out.otherwise = "unapproved";
  return out;
}

}  // namespace ipn::core
