// CoreRouter: symbol issuance (the registry link's path, DESIGN.md §3) — the resident code
// arrives sealed to the core's key, is opened, used once and wiped; a replicated core
// commits the issuance through etcd before the symbol leaves, so every site's issuance
// file knows the person was issued to the agency.
#include <sodium.h>

#include "common/wipe_guard.h"
#include "core/core_router_impl.h"
#include "ipn/v1/wire_names.h"

namespace ipn::core {

// Opens a resident code sealed to the core's key (crypto_box_seal) into `code`.
Status CoreRouter::Impl::OpenSealedCode(const std::string& sealed, std::string* code) const {
  if (sealed.size() <= crypto_box_SEALBYTES || sealed.size() > crypto_box_SEALBYTES + 64) {
    return Status::InvalidArgument("the sealed resident code has the wrong size");
  }
  code->resize(sealed.size() - crypto_box_SEALBYTES);
  if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(code->data()),
                           reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(),
                           keys_.public_key.data(), keys_.secret_key.data()) != 0) {
    return Status::InvalidArgument("the resident code is not sealed to this core's key");
  }
  return Status::Ok();
}

void CoreRouter::Impl::HandleIssueSymbol(Incoming& in) {
  v1::IssueSymbolRequest* req = in.envelope.mutable_issue_symbol_request();
  std::shared_ptr<const policy::Policy> current = policy_->Current();
  const policy::Agency* sender = current->FindAgency(in.user_id);
  v1::Envelope reply = Reply(in.envelope.request_id());
  v1::IssueSymbolResponse* resp = reply.mutable_issue_symbol_response();
  resp->set_agency_code(req->agency_code());
  resp->set_person_ref(req->person_ref());
  const policy::Agency* target = current->FindAgency(req->agency_code());
  if (sender == nullptr || sender->agency_class != "registry") {
    resp->set_error_code(v1::ERROR_CODE_PERMISSION_DENIED);
    resp->set_reason("only the registry link may submit resident codes");
    refusals_.Add(in.user_id, "RESIDENT_CODE_REFUSED", in.envelope.request_id(), NowMicros());
  } else if (target == nullptr || target->status != policy::AgencyStatus::kActive) {
    resp->set_error_code(v1::ERROR_CODE_UNKNOWN_AGENCY);
    resp->set_reason("agency " + req->agency_code() + " is not an active agency");
  } else if (nodes_.AnswerEndpoint(req->agency_code()) == nullptr) {
    resp->set_error_code(v1::ERROR_CODE_UNAVAILABLE);
    resp->set_reason("the node of agency " + req->agency_code() + " is not connected");
  } else if (!req->resident_code().empty() || req->sealed_resident_code().empty()) {
    // A code in clear has passed through buffers nobody wipes: it is refused, not used.
    resp->set_error_code(v1::ERROR_CODE_MALFORMED);
    resp->set_reason("a resident code must come sealed to the core's key (sealed_resident_code)");
  } else {
    std::string code;
    WipeOnExit wipe_code(&code);
    Status opened = OpenSealedCode(req->sealed_resident_code(), &code);
    symbol::LinkageSymbol linkage;
    Result<symbol::AgencySymbol> issued =
        opened.ok() ? symbols_->Issue(code, req->agency_code(), replica_ ? &linkage : nullptr)
                    : Result<symbol::AgencySymbol>(opened);
    // Replicated: the other sites must know of the issuance before the symbol is used;
    // this turn's issuances are committed together, before its replies leave (Commit).
    if (issued.ok() && replica_) {
      v1::Issuance& i = issuances_.emplace_back();
      i.set_linkage_symbol(linkage.data(), symbol::LinkageSymbol::kSize);
      i.set_agency(req->agency_code());
      i.set_time_unix_us(NowMicros());
    }
    if (!issued.ok()) {
      resp->set_error_code(issued.status().code() == Status::Code::kInvalidArgument
                               ? v1::ERROR_CODE_INVALID_RESIDENT_CODE
                               : v1::ERROR_CODE_INTERNAL);
      resp->set_reason(issued.status().message());
    } else {
      v1::Envelope to_agency = Reply(in.envelope.request_id());
      v1::SymbolIssued* si = to_agency.mutable_symbol_issued();
      si->set_person_ref(req->person_ref());
      si->set_agency_symbol(issued->bytes.data(), issued->bytes.size());
      SendAfterCommit(req->agency_code(), std::move(to_agency));
      sodium_memzero(issued->bytes.data(), issued->bytes.size());
    }
  }
  (resp->error_code() == v1::ERROR_CODE_NONE ? stats_->symbols_issued : stats_->symbols_refused)
      .Add();
  log_->Info("symbol_issuance", {{"request_id", in.envelope.request_id()},
                                 {"agency", req->agency_code()},
                                 {"result", v1::ErrorCodeName(resp->error_code())}});
  SendAfterCommit(in.routing_id, std::move(reply));
}

// Commits this turn's issuances through etcd in one transaction. If that fails, nobody
// hears of them: each symbol is taken out of the outbox and its registry's answer says
// "records unavailable" (issuing again later gives the same symbol).
void CoreRouter::Impl::CommitIssuances() {
  if (issuances_.empty()) return;
  Status shared = replica_->CommitIssuances(issuances_);
  for (v1::Issuance& i : issuances_) {
    if (shared.ok()) {
      // Committed: now this site's issuance file records it too (after etcd, never before).
      std::span<const uint8_t, symbol::LinkageSymbol::kSize> linkage(
          reinterpret_cast<const uint8_t*>(i.linkage_symbol().data()),
          symbol::LinkageSymbol::kSize);
      Status local = symbols_->ApplyIssuance(linkage, i.agency(), i.time_unix_us());
      if (!local.ok()) log_->Error("issuance_not_recorded_here", {{"reason", local.ToString()}});
    }
    std::string* linkage = i.mutable_linkage_symbol();
    sodium_memzero(linkage->data(), linkage->size());
  }
  const size_t count = issuances_.size();
  issuances_.clear();
  if (shared.ok()) return;
  log_->Error("issuance_not_replicated", {{"issuances", count}, {"reason", shared.ToString()}});
  Outbox kept;
  for (auto& [to, e] : batch_.outbox) {
    if (e.has_symbol_issued()) {
      std::string* s = e.mutable_symbol_issued()->mutable_agency_symbol();
      sodium_memzero(s->data(), s->size());
      continue;
    }
    if (e.has_issue_symbol_response() &&
        e.issue_symbol_response().error_code() == v1::ERROR_CODE_NONE) {
      v1::IssueSymbolResponse* r = e.mutable_issue_symbol_response();
      r->set_error_code(v1::ERROR_CODE_UNAVAILABLE);
      r->set_reason("records unavailable: the issuance could not be replicated (" +
                    shared.message() + "); retry later");
    }
    kept.emplace_back(std::move(to), std::move(e));
  }
  batch_.outbox = std::move(kept);
}

}  // namespace ipn::core
