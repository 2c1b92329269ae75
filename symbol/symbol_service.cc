// SymbolService: issuance, translation and key lifecycle over the key ring and the
// issuance file.
#include "symbol/symbol_service.h"

#include <sodium.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "common/file_util.h"
#include "symbol/derivation.h"
#include "symbol/resident_code.h"

namespace ipn::symbol {
namespace {

std::string KeyRingPath(const std::string& dir) {
  return dir + "/" + SymbolService::kKeyRingFileName;
}
std::string IssuancePath(const std::string& dir) {
  return dir + "/" + SymbolService::kIssuanceDirName;
}

Status InvalidSymbol(std::string_view why) {
  return Status::InvalidArgument("invalid symbol: " + std::string(why));
}

// InvalidArgument: to the caller (the registry link) the code is no longer a valid one.
Status ReplacedCode() {
  return Status::InvalidArgument(
      "resident code was replaced by a new resident code and no longer identifies anyone; "
      "use the new code");
}

}  // namespace

SymbolService::~SymbolService() = default;

int64_t SymbolService::Now() const {
  return options_.clock != nullptr ? options_.clock->NowMicros() : system_clock_.NowMicros();
}

void SymbolService::Log(std::string_view event, const Logger::Fields& fields) const {
  if (options_.logger != nullptr) options_.logger->Info(event, fields);
}

Status SymbolService::Create(const std::string& dir, std::string_view passphrase,
                             const SymbolServiceOptions& options) {
  std::error_code ec;
  if (std::filesystem::exists(KeyRingPath(dir), ec)) {
    return Status::AlreadyExists(dir + " already holds a key ring (" + KeyRingPath(dir) + ")");
  }
  if (std::filesystem::exists(IssuancePath(dir), ec)) {
    return Status::AlreadyExists(dir + " already holds an issuance file (" + IssuancePath(dir) +
                                 ")");
  }
  if (passphrase.empty()) return Status::InvalidArgument("the passphrase must not be empty");
  IPN_RETURN_IF_ERROR(EnsureDirectory(dir));
  auto file = KeyRingFile::Prepare(KeyRingPath(dir), passphrase, options.kdf);
  if (!file.ok()) return file.status();
  KeyRing ring = KeyRing::Generate();
  IPN_RETURN_IF_ERROR(IssuanceFile::Create(IssuancePath(dir), ring));
  Status saved = file->Save(ring);
  if (!saved.ok()) {
    std::filesystem::remove_all(IssuancePath(dir), ec);
    return saved.WithContext("cannot save the new key ring");
  }
  if (options.logger != nullptr) {
    options.logger->Info("symbol.keyring_created",
                         {{"dir", dir}, {"kdf", KdfStrengthName(options.kdf)}});
  }
  return Status::Ok();
}

Result<std::unique_ptr<SymbolService>> SymbolService::Open(const std::string& dir,
                                                           std::string_view passphrase,
                                                           const SymbolServiceOptions& options) {
  std::error_code ec;
  if (!std::filesystem::exists(KeyRingPath(dir), ec)) {
    return Status::NotFound("there is no key ring under " + dir +
                            " (create one with `ipn keys init --dir " + dir + "`)");
  }
  auto opened = options.key_wrapper != nullptr
                    ? KeyRingFile::OpenWrapped(KeyRingPath(dir), *options.key_wrapper)
                    : KeyRingFile::Open(KeyRingPath(dir), passphrase);
  if (!opened.ok()) return opened.status();
  auto& [file, ring] = *opened;
  IssuanceFileOptions issuance_options;
  issuance_options.block_cache_bytes = options.block_cache_bytes;
  issuance_options.index_in_memory = options.issuance_index_in_memory;
  issuance_options.logger = options.logger;
  auto issuance = IssuanceFile::Open(IssuancePath(dir), ring, issuance_options);
  if (!issuance.ok()) return issuance.status();

  std::unique_ptr<SymbolService> service(new SymbolService());
  service->options_ = options;
  service->options_.key_wrapper = nullptr;  // used only to open; not kept
  service->ring_file_ = std::make_unique<KeyRingFile>(std::move(file));
  service->ring_ = std::make_unique<KeyRing>(std::move(ring));
  service->issuance_ = std::move(issuance).value();
  service->Log("symbol.opened", {{"dir", dir}, {"agencies", service->ring_->agency_count()}});
  return service;
}

// ---- Opening symbols -----------------------------------------------------------------

Status SymbolService::OpenLocked(const KeyRing& ring, const AgencySymbol& symbol,
                                 std::string_view agency_code, LinkageSymbol* linkage) const {
  const AgencyKeys* keys = ring.FindAgency(agency_code);
  if (keys == nullptr) {
    IPN_RETURN_IF_ERROR(ValidateAgencyCode(agency_code));
    return InvalidSymbol("agency " + std::string(agency_code) + " has never been issued a symbol");
  }
  uint16_t version = symbol.key_version();
  const AgencyKeyVersion* key = keys->Find(version);
  if (key == nullptr) {
    return InvalidSymbol("agency " + std::string(agency_code) + " has no key version " +
                         std::to_string(version));
  }
  if (key->state == KeyState::kDestroyed) {
    return InvalidSymbol("key version " + std::to_string(version) + " of agency " +
                         std::string(agency_code) + " was destroyed");
  }
  if (!OpenAgencySymbol(key->key.span(), agency_code, symbol, linkage)) {
    return InvalidSymbol("it was altered, forged or issued to another agency");
  }
  return Status::Ok();
}

Status SymbolService::OpenSymbol(std::span<const uint8_t> symbol, std::string_view agency_code,
                                 LinkageSymbol* linkage) const {
  auto parsed = AgencySymbol::FromBinary(symbol);
  if (!parsed.ok()) return parsed.status();
  std::shared_lock<std::shared_mutex> lock(ring_mu_);
  return OpenLocked(*ring_, *parsed, agency_code, linkage);
}

Result<SymbolService::Translation> SymbolService::Translate(
    std::span<const uint8_t> inquirer_symbol, std::string_view inquirer_code,
    std::string_view provider_code) const {
  auto symbol = AgencySymbol::FromBinary(inquirer_symbol);
  if (!symbol.ok()) return symbol.status();
  Translation out;
  LinkageSymbol linkage;
  bool provider_has_keys = false;
  {
    std::shared_lock<std::shared_mutex> lock(ring_mu_);
    IPN_RETURN_IF_ERROR(OpenLocked(*ring_, *symbol, inquirer_code, &linkage));
    out.record_symbol = DeriveRecordSymbol(ring_->record_symbol_key().span(), linkage);
    if (const AgencyKeys* keys = ring_->FindAgency(provider_code)) {
      const AgencyKeyVersion& active = keys->active();
      out.provider_symbol =
          SealAgencySymbol(active.key.span(), active.version, provider_code, linkage);
      provider_has_keys = true;
    }
  }
  if (!provider_has_keys) {
    IPN_RETURN_IF_ERROR(ValidateAgencyCode(provider_code));
    return out;  // never issued anything: provider_issued stays false
  }
  auto issued = issuance_->IsIssued(linkage, provider_code);
  if (!issued.ok()) return issued.status();
  out.provider_issued = *issued;
  return out;
}

Result<RecordSymbol> SymbolService::RecordSymbolOf(std::span<const uint8_t> symbol,
                                                   std::string_view agency_code) const {
  auto parsed = AgencySymbol::FromBinary(symbol);
  if (!parsed.ok()) return parsed.status();
  LinkageSymbol linkage;
  std::shared_lock<std::shared_mutex> lock(ring_mu_);
  IPN_RETURN_IF_ERROR(OpenLocked(*ring_, *parsed, agency_code, &linkage));
  return DeriveRecordSymbol(ring_->record_symbol_key().span(), linkage);
}

Result<std::vector<IssuanceEntry>> SymbolService::IssuanceOf(std::span<const uint8_t> symbol,
                                                             std::string_view agency_code) const {
  LinkageSymbol linkage;
  IPN_RETURN_IF_ERROR(OpenSymbol(symbol, agency_code, &linkage));
  return issuance_->EntriesOf(linkage);
}

// ---- Issuance ------------------------------------------------------------------------

Result<AgencySymbol> SymbolService::Issue(std::string_view resident_code,
                                          std::string_view agency_code, LinkageSymbol* issued) {
  IPN_RETURN_IF_ERROR(ValidateAgencyCode(agency_code));
  auto code = ResidentCode::Parse(resident_code);
  if (!code.ok()) return code.status();

  std::shared_lock<std::shared_mutex> change_lock(code_change_mu_);
  auto row = issuance_->GetCodeRow(issuance_->CodeRowKey(*code));
  if (!row.ok()) return row.status();
  if (row->kind == CodeRow::Kind::kReplaced) return ReplacedCode();
  // Only now, with an issuable code, may the agency's keys be created.
  IPN_RETURN_IF_ERROR(EnsureAgencyKeys(agency_code));
  LinkageSymbol linkage;
  AgencySymbol symbol;
  {
    std::shared_lock<std::shared_mutex> lock(ring_mu_);
    switch (row->kind) {
      case CodeRow::Kind::kReplaced: return ReplacedCode();  // handled above
      case CodeRow::Kind::kRedirect: linkage = std::move(row->linkage); break;
      case CodeRow::Kind::kNone:
        DeriveLinkageSymbol(ring_->linkage_key().span(), *code, &linkage);
        break;
    }
    code->Wipe();
    const AgencyKeyVersion& active = ring_->FindAgency(agency_code)->active();
    symbol = SealAgencySymbol(active.key.span(), active.version, agency_code, linkage);
  }
  const LinkageSymbol* person = &linkage;
  if (issued != nullptr) {
    std::memcpy(issued->data(), linkage.data(), LinkageSymbol::kSize);
    return symbol;  // recorded by the caller once replicated (ApplyIssuance)
  }
  IPN_RETURN_IF_ERROR(issuance_->RecordIssuance({&person, 1}, agency_code, Now()));
  return symbol;
}

Status SymbolService::ApplyIssuance(std::span<const uint8_t, LinkageSymbol::kSize> linkage,
                                    std::string_view agency_code, int64_t time_us) {
  IPN_RETURN_IF_ERROR(ValidateAgencyCode(agency_code));
  LinkageSymbol person;
  std::memcpy(person.data(), linkage.data(), LinkageSymbol::kSize);
  const LinkageSymbol* p = &person;
  return issuance_->RecordIssuance({&p, 1}, agency_code, time_us);
}

std::vector<Result<AgencySymbol>> SymbolService::IssueBatch(
    const std::vector<std::string>& resident_codes, std::string_view agency_code) {
  const size_t n = resident_codes.size();
  std::vector<Status> errors(n);
  std::vector<AgencySymbol> symbols(n);
  auto finish = [&] {
    std::vector<Result<AgencySymbol>> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (errors[i].ok()) {
        out.emplace_back(symbols[i]);
      } else {
        out.emplace_back(errors[i]);
      }
    }
    return out;
  };
  auto fail_all = [&](const std::vector<size_t>& which, const Status& s) {
    for (size_t i : which) {
      if (errors[i].ok()) errors[i] = s;
    }
  };

  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  Status agency_ok = ValidateAgencyCode(agency_code);
  if (!agency_ok.ok()) {
    fail_all(all, agency_ok);
    return finish();
  }

  // Parse; the parsed copies are wiped as soon as their linkage symbols exist.
  std::vector<ResidentCode> codes;
  std::vector<size_t> index;  // input position of codes[k]
  codes.reserve(n);
  index.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto code = ResidentCode::Parse(resident_codes[i]);
    if (!code.ok()) {
      errors[i] = code.status();
      continue;
    }
    codes.push_back(std::move(code).value());
    index.push_back(i);
  }
  if (codes.empty()) return finish();

  std::shared_lock<std::shared_mutex> change_lock(code_change_mu_);
  std::vector<RowKey> code_rows;
  code_rows.reserve(codes.size());
  for (const auto& code : codes) code_rows.push_back(issuance_->CodeRowKey(code));
  auto rows = issuance_->GetCodeRows(code_rows);
  if (!rows.ok()) {
    fail_all(index, rows.status());
    return finish();
  }
  bool any_issuable = false;
  for (const auto& row : *rows) any_issuable |= row.kind != CodeRow::Kind::kReplaced;
  Status keys_ok = any_issuable ? EnsureAgencyKeys(agency_code) : Status::Ok();
  if (!keys_ok.ok()) {
    fail_all(index, keys_ok);
    return finish();
  }
  std::vector<LinkageSymbol> linkages(codes.size());
  std::vector<const LinkageSymbol*> issued;
  issued.reserve(codes.size());
  {
    std::shared_lock<std::shared_mutex> lock(ring_mu_);
    const AgencyKeys* keys = ring_->FindAgency(agency_code);
    for (size_t k = 0; k < codes.size(); ++k) {
      CodeRow& row = (*rows)[k];
      if (row.kind == CodeRow::Kind::kReplaced) {
        errors[index[k]] = ReplacedCode();
      } else {
        if (row.kind == CodeRow::Kind::kRedirect) {
          linkages[k] = std::move(row.linkage);
        } else {
          DeriveLinkageSymbol(ring_->linkage_key().span(), codes[k], &linkages[k]);
        }
        const AgencyKeyVersion& active = keys->active();
        symbols[index[k]] =
            SealAgencySymbol(active.key.span(), active.version, agency_code, linkages[k]);
        issued.push_back(&linkages[k]);
      }
      codes[k].Wipe();
    }
  }
  Status recorded = issuance_->RecordIssuance(issued, agency_code, Now());
  if (!recorded.ok()) fail_all(index, recorded);
  Log("symbol.batch_issued",
      {{"agency", agency_code}, {"requested", n}, {"issued", recorded.ok() ? issued.size() : 0}});
  return finish();
}

// ---- Resident-code change ------------------------------------------------------------

Status SymbolService::ChangeResidentCode(std::string_view old_code, std::string_view new_code) {
  auto old_parsed = ResidentCode::Parse(old_code);
  if (!old_parsed.ok()) return old_parsed.status().WithContext("old code");
  auto new_parsed = ResidentCode::Parse(new_code);
  if (!new_parsed.ok()) return new_parsed.status().WithContext("new code");
  if (sodium_memcmp(old_parsed->digits().data(), new_parsed->digits().data(),
                    ResidentCode::kLength) == 0) {
    return Status::InvalidArgument("the old and new resident codes are the same");
  }

  std::unique_lock<std::shared_mutex> change_lock(code_change_mu_);
  RowKey old_row = issuance_->CodeRowKey(*old_parsed);
  RowKey new_row = issuance_->CodeRowKey(*new_parsed);
  auto old_state = issuance_->GetCodeRow(old_row);
  if (!old_state.ok()) return old_state.status();
  auto new_state = issuance_->GetCodeRow(new_row);
  if (!new_state.ok()) return new_state.status();
  if (old_state->kind == CodeRow::Kind::kReplaced) {
    return Status::FailedPrecondition("the old resident code was already replaced");
  }
  if (new_state->kind != CodeRow::Kind::kNone) {
    return Status::FailedPrecondition("the new resident code is already in use");
  }
  LinkageSymbol person;
  LinkageSymbol new_alone;  // whom the new code would name without the change
  {
    std::shared_lock<std::shared_mutex> lock(ring_mu_);
    if (old_state->kind == CodeRow::Kind::kRedirect) {
      person = std::move(old_state->linkage);
    } else {
      DeriveLinkageSymbol(ring_->linkage_key().span(), *old_parsed, &person);
    }
    DeriveLinkageSymbol(ring_->linkage_key().span(), *new_parsed, &new_alone);
  }
  old_parsed->Wipe();
  new_parsed->Wipe();
  auto entries = issuance_->EntriesOf(new_alone);
  if (!entries.ok()) return entries.status();
  if (!entries->empty()) {
    return Status::FailedPrecondition(
        "the new resident code already identifies a person who was issued symbols");
  }
  IPN_RETURN_IF_ERROR(issuance_->WriteCodeChange(old_row, new_row, person, Now()));
  Log("symbol.resident_code_changed", {});
  return Status::Ok();
}

}  // namespace ipn::symbol
