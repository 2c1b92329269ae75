// RecordAccess: who may read the records (checked per request, audited), and the reads
// themselves: person histories, pulls with proofs, heads, statistics. Reads only durable
// records.
#include "core/record_access.h"

#include <algorithm>
#include <set>

#include "common/encoding.h"
#include "common/envelope_io.h"
#include "records/audit_record.h"
#include "records/person_map.h"

namespace ipn::core {
namespace {

constexpr size_t kHistoryPage = 1000;
constexpr size_t kMaxHistoryRecords = 50'000;  // 7 years of a very busy person

std::string ExchangeKey(const records::Record& r) {
  return r.inquirer + '\n' + r.request_id;
}

v1::ErrorCode ErrorCodeOf(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return v1::ERROR_CODE_MALFORMED;
    case Status::Code::kNotFound: return v1::ERROR_CODE_NOT_FOUND;
    case Status::Code::kPermissionDenied: return v1::ERROR_CODE_PERMISSION_DENIED;
    case Status::Code::kResourceExhausted: return v1::ERROR_CODE_RESOURCE_EXHAUSTED;
    default: return v1::ERROR_CODE_INTERNAL;
  }
}

}  // namespace

v1::Envelope RecordAccess::Reply(const std::string& request_id) const {
  v1::Envelope e;
  StampEnvelope(&e, request_id, env_->NowMicros());
  return e;
}

bool RecordAccess::AskerHasClass(const std::string& asker, std::string_view agency_class) const {
  // Checked on every request, not only at connection: a suspension takes effect at once.
  const policy::Agency* a = policy_->Current()->FindAgency(asker);
  return a != nullptr && a->agency_class == agency_class &&
         a->status == policy::AgencyStatus::kActive && a->pia_approved;
}

void RecordAccess::Audit(const std::string& asker, const std::string& action,
                         const std::string& agency, const std::string& detail,
                         const std::string& outcome, const std::string& request_id) {
  records::AuditRecord a;
  a.time_unix_us = env_->NowMicros();
  a.actor = asker;
  a.agency = agency;
  a.action = action;
  a.detail = detail;
  a.outcome = outcome;
  a.request_id = request_id;
  env_->AddRecord(records::ToRecord(a));
}

// A refused record access is evidence too: recorded, then answered.
void RecordAccess::Refuse(const std::string& asker, const v1::Envelope& envelope,
                          const std::string& action, const std::string& why) {
  Audit(asker, action, asker, "refused", "refused: " + why, envelope.request_id());
  log_->Warn("record_access_refused", {{"request_id", envelope.request_id()},
                                       {"agency", asker},
                                       {"action", action},
                                       {"reason", why}});
  v1::Envelope e = Reply(envelope.request_id());
  e.mutable_error()->set_code(v1::ERROR_CODE_PERMISSION_DENIED);
  e.mutable_error()->set_reason(why);
  env_->SendAfterCommit(asker, std::move(e));
}

void RecordAccess::SendError(const std::string& asker, const std::string& request_id,
                             const Status& status) {
  v1::Envelope e = Reply(request_id);
  e.mutable_error()->set_code(ErrorCodeOf(status));
  e.mutable_error()->set_reason(status.message());
  env_->SendAfterCommit(asker, std::move(e));
}

void RecordAccess::OnRecordQuery(const std::string& asker, const v1::Envelope& envelope) {
  const v1::RecordQuery& q = envelope.record_query();
  const std::string& request_id = envelope.request_id();
  v1::Envelope reply = Reply(request_id);
  if (!q.person_symbol().empty()) {
    // A person's history: only the disclosure portal, by its own symbol for the person.
    if (!AskerHasClass(asker, "portal")) {
      return Refuse(asker, envelope, "person_history",
                    "only the disclosure portal may read a person's history");
    }
    Result<v1::RecordPage> page = PersonHistory(asker, q.person_symbol(), q.with_proofs());
    if (!page.ok()) return SendError(asker, request_id, page.status());
    *reply.mutable_record_page() = std::move(*page);
    log_->Info("history_served",
               {{"request_id", request_id}, {"records", reply.record_page().records_size()}});
    return env_->SendAfterCommit(asker, std::move(reply));
  }
  if (!q.record_symbol().empty()) {
    // A person by record symbol: only the commission; each read is audited.
    if (!AskerHasClass(asker, "commission")) {
      return Refuse(asker, envelope, "person_records",
                    "only the oversight commission may read a person's records by symbol");
    }
    Result<v1::RecordPage> page = PersonRecords(AsBytes(q.record_symbol()));
    if (!page.ok()) return SendError(asker, request_id, page.status());
    Audit(
        asker, "person_records", "",
        HexEncode(AsBytes(q.record_symbol()).first(std::min<size_t>(8, q.record_symbol().size()))),
        "ok: " + std::to_string(page->records_size()) + " records", request_id);
    *reply.mutable_record_page() = std::move(*page);
    return env_->SendAfterCommit(asker, std::move(reply));
  }
  // A time-range pull: only the oversight commission.
  if (!AskerHasClass(asker, "commission")) {
    return Refuse(asker, envelope, "records_pull",
                  "only the oversight commission may pull records");
  }
  Result<v1::RecordPage> page = q.has_from_sequence() ? SequencePull(q) : Pull(q);
  if (!page.ok()) return SendError(asker, request_id, page.status());
  // Every page is recorded with the sequences it released (a page token is only a
  // position, so each page is its own access).
  const v1::RecordPage& p = *page;
  const std::string released = p.records_size() == 0
                                   ? "no records"
                                   : "sequences " + std::to_string(p.records(0).sequence()) + "-" +
                                         std::to_string(p.records(p.records_size() - 1).sequence());
  std::string what = q.has_from_sequence()
                         ? "from sequence " + std::to_string(q.from_sequence())
                         : std::to_string(q.from_unix_us()) + ".." + std::to_string(q.to_unix_us());
  // The desk's audit anchor goes in the outcome (the detail holds at most 64 bytes).
  std::string outcome = "ok: " + released;
  if (!q.desk_audit_head().empty()) {
    outcome += "; desk audit " + HexEncode(AsBytes(q.desk_audit_head()));
  }
  Audit(asker, "records_pull", q.agency_code(), what, outcome, request_id);
  *reply.mutable_record_page() = std::move(*page);
  env_->SendAfterCommit(asker, std::move(reply));
}

void RecordAccess::OnTreeHeadRequest(const std::string& asker, const v1::Envelope& envelope) {
  if (!AskerHasClass(asker, "commission")) {
    return Refuse(asker, envelope, "tree_head", "only the oversight commission may ask for heads");
  }
  const v1::TreeHeadRequest& q = envelope.tree_head_request();
  if (q.has_cosignature()) {
    const v1::CosignatureView& c = q.cosignature();
    const std::string detail =
        "head " + std::to_string(c.tree_size()) + " cosigned by " +
        HexEncode(AsBytes(c.witness()).first(std::min<size_t>(8, c.witness().size())));
    if (Status s = AcceptCosignature(c); !s.ok()) {
      Audit(asker, "cosignature", "", detail, "refused: " + std::string(s.message()),
            envelope.request_id());
      return SendError(asker, envelope.request_id(), s);
    }
    Audit(asker, "cosignature", "", detail, "ok", envelope.request_id());
  }
  Result<v1::TreeHeadResponse> head = TreeHead(q.old_size(), q.new_size());
  if (!head.ok()) return SendError(asker, envelope.request_id(), head.status());
  v1::Envelope reply = Reply(envelope.request_id());
  *reply.mutable_tree_head_response() = std::move(*head);
  env_->SendAfterCommit(asker, std::move(reply));
}

void RecordAccess::OnStatsQuery(const std::string& asker, const v1::Envelope& envelope) {
  if (!AskerHasClass(asker, "commission")) {
    return Refuse(asker, envelope, "stats", "only the oversight commission may read statistics");
  }
  const v1::StatsQuery& q = envelope.stats_query();
  Result<v1::StatsReport> stats = Stats(q.from_unix_us(), q.to_unix_us());
  if (!stats.ok()) return SendError(asker, envelope.request_id(), stats.status());
  Audit(asker, "stats_read", "",
        std::to_string(q.from_unix_us()) + ".." + std::to_string(q.to_unix_us()), "ok",
        envelope.request_id());
  v1::Envelope reply = Reply(envelope.request_id());
  *reply.mutable_stats_report() = std::move(*stats);
  env_->SendAfterCommit(asker, std::move(reply));
}

void ToView(const records::SignedTreeHead& head, v1::SignedTreeHeadView* view) {
  view->set_tree_size(head.tree_size);
  view->set_timestamp_us(head.timestamp_us);
  view->set_root_hash(head.root_hash.data(), head.root_hash.size());
  view->set_signer(head.signer.data(), head.signer.size());
  view->set_signature(head.signature.data(), head.signature.size());
  if (head.version == 2) {
    view->set_version(2);
    view->set_person_root(head.history.disclosed.data(), head.history.disclosed.size());
    view->set_withheld_root(head.history.withheld.data(), head.history.withheld.size());
  }
}

void ToView(const records::MapProof& proof, v1::HistoryProofView* view) {
  view->set_key(proof.key.data(), proof.key.size());
  switch (proof.end) {
    case records::MapProof::End::kLeaf:
      view->set_end(v1::HistoryProofView::END_LEAF);
      view->set_chain(proof.value.chain.data(), proof.value.chain.size());
      view->set_count(proof.value.count);
      break;
    case records::MapProof::End::kEmpty: view->set_end(v1::HistoryProofView::END_EMPTY); break;
    case records::MapProof::End::kOtherLeaf:
      view->set_end(v1::HistoryProofView::END_OTHER_LEAF);
      view->set_other_key(proof.other_key.data(), proof.other_key.size());
      view->set_other_value(proof.other_value.data(), proof.other_value.size());
      break;
  }
  for (const records::Hash& h : proof.siblings) view->add_siblings(h.data(), h.size());
}

Status RecordAccess::AddView(const records::Record& r, bool with_proofs, uint64_t tree_size,
                             v1::ProvisionRecordView* view) const {
  view->set_sequence(r.sequence);
  view->set_time_unix_us(r.time_unix_us);
  view->set_event(records::EventName(r.event));
  view->set_inquirer_code(r.inquirer);
  view->set_provider_code(r.provider);
  view->set_business_code(r.business);
  view->set_item_code(r.item);
  view->set_request_id(r.request_id);
  view->set_outcome(r.outcome);
  view->set_non_disclosure(r.non_disclosure);
  if (!with_proofs) return Status::Ok();
  view->set_record_symbol(r.record_symbol.data(), r.record_symbol.size());
  Result<std::vector<records::Hash>> path =
      store_->InclusionProof(r.sequence, tree_size, &proof_cache_);
  if (!path.ok())
    return path.status().WithContext("inclusion proof of record " + std::to_string(r.sequence));
  for (const records::Hash& h : *path) view->add_inclusion_path(h.data(), h.size());
  return Status::Ok();
}

Result<std::vector<records::Record>> RecordAccess::RecordsInLogOrder(
    std::span<const uint8_t, 32> record_symbol) const {
  std::vector<records::Record> all;
  std::string token;
  do {
    Result<records::RecordStore::HistoryPage> page =
        store_->History(record_symbol, kHistoryPage, token);
    if (!page.ok()) return page.status();
    for (records::Record& r : page->records) all.push_back(std::move(r));
    token = std::move(page->next_page_token);
    if (all.size() > kMaxHistoryRecords) {
      return Status::ResourceExhausted("the history holds more than " +
                                       std::to_string(kMaxHistoryRecords) + " records");
    }
  } while (!token.empty());
  // Log order: the order the person's history chains commit to (History is newest first).
  std::sort(all.begin(), all.end(), [](const records::Record& a, const records::Record& b) {
    return a.sequence < b.sequence;
  });
  return all;
}

Result<v1::RecordPage> RecordAccess::PersonHistory(std::string_view agency,
                                                   std::string_view agency_symbol,
                                                   bool with_proofs) {
  proof_cache_.nodes.clear();
  Result<symbol::RecordSymbol> person = symbols_->RecordSymbolOf(AsBytes(agency_symbol), agency);
  if (!person.ok()) return person.status();

  Result<std::vector<records::Record>> found = RecordsInLogOrder(person->bytes);
  if (!found.ok()) return found.status();
  const std::vector<records::Record>& all = *found;
  const uint64_t newest = all.empty() ? 0 : all.back().sequence + 1;

  v1::RecordPage out;
  uint64_t tree_size = UINT64_MAX;
  if (with_proofs) {
    // The head and the proof that the exchanges shown are all the person's disclosable
    // ones as of it (records/person_map.h); records after the head wait for the next.
    // The head the commission cosigned last, so that the page can tell this is the log
    // the commission sees; else the latest (which the page does not accept).
    Result<records::RecordStore::HistoryProof> proof = Status::NotFound("no cosigned head");
    if (cosigned_) {
      proof = store_->ProveHistory(person->bytes, 0, cosigned_->first.tree_size);
      if (proof.ok()) *out.mutable_cosignature() = cosigned_->second;
    }
    if (!proof.ok()) proof = store_->ProveHistory(person->bytes, newest);
    if (!proof.ok()) return proof.status();
    tree_size = proof->head.tree_size;
    ToView(proof->head, out.mutable_tree_head());
    ToView(proof->disclosed, out.mutable_history_proof());
  }
  // Shown: the exchanges settled by a disclosed record (the chain's entries), with their
  // other records; never a record the provider flagged non-disclosure. An exchange withheld
  // or not yet settled leaves no trace here: not even the number withheld reaches the
  // portal (RecordPage.withheld, field 6, stays 0; retired at the next schema version).
  std::set<std::string> disclosed;
  for (const records::Record& r : all) {
    if (r.sequence < tree_size && records::HistoryKindOf(r) == records::HistoryKind::kDisclosed) {
      disclosed.insert(ExchangeKey(r));
    }
  }
  for (const records::Record& r : all) {
    if (r.sequence >= tree_size || r.non_disclosure || disclosed.count(ExchangeKey(r)) == 0) {
      continue;
    }
    IPN_RETURN_IF_ERROR(AddView(r, with_proofs, with_proofs ? tree_size : 0, out.add_records()));
  }
  return out;
}

Result<v1::RecordPage> RecordAccess::PersonRecords(std::span<const uint8_t> record_symbol) {
  if (record_symbol.size() != 32) {
    return Status::InvalidArgument("a record symbol is 32 bytes");
  }
  proof_cache_.nodes.clear();
  std::array<uint8_t, 32> key{};
  std::copy(record_symbol.begin(), record_symbol.end(), key.begin());
  Result<std::vector<records::Record>> found = RecordsInLogOrder(key);
  if (!found.ok()) return found.status();
  const std::vector<records::Record>& all = *found;
  const uint64_t newest = all.empty() ? 0 : all.back().sequence + 1;
  Result<records::RecordStore::HistoryProof> proof = store_->ProveHistory(key, newest);
  if (!proof.ok()) return proof.status();
  v1::RecordPage out;
  ToView(proof->head, out.mutable_tree_head());
  ToView(proof->disclosed, out.mutable_history_proof());
  ToView(proof->withheld, out.mutable_withheld_proof());
  for (const records::Record& r : all) {
    if (r.sequence >= proof->head.tree_size) continue;
    IPN_RETURN_IF_ERROR(AddView(r, true, proof->head.tree_size, out.add_records()));
  }
  return out;
}

Result<v1::TreeHeadResponse> RecordAccess::TreeHead(uint64_t old_size, uint64_t new_size) {
  Result<records::SignedTreeHead> head =
      Status::NotFound("no signed head of " + std::to_string(new_size) + " records");
  if (new_size == 0) {
    head = store_->SignTreeHead();
  } else {
    Result<std::vector<records::SignedTreeHead>> heads = store_->TreeHeads();
    if (!heads.ok()) return heads.status();
    for (const records::SignedTreeHead& h : *heads) {
      if (h.tree_size == new_size) head = h;
    }
  }
  if (!head.ok()) return head.status();
  v1::TreeHeadResponse out;
  ToView(*head, out.mutable_head());
  if (old_size > 0) {
    if (old_size > head->tree_size) {
      return Status::InvalidArgument("old_size " + std::to_string(old_size) +
                                     " is larger than the log (" + std::to_string(head->tree_size) +
                                     " records)");
    }
    Result<std::vector<records::Hash>> proof = store_->ConsistencyProof(old_size, head->tree_size);
    if (!proof.ok()) return proof.status();
    for (const records::Hash& h : *proof) out.add_consistency_path(h.data(), h.size());
  }
  return out;
}

Status RecordAccess::AcceptCosignature(const v1::CosignatureView& c) {
  if (c.witness().size() != 32 || c.signature().size() != 64) {
    return Status::InvalidArgument(
        "a cosignature needs a 32-byte witness key and a 64-byte signature");
  }
  Result<std::vector<records::SignedTreeHead>> heads = store_->TreeHeads();
  if (!heads.ok()) return heads.status();
  const records::SignedTreeHead* head = nullptr;
  for (const records::SignedTreeHead& h : *heads) {
    if (h.tree_size == c.tree_size() && h.timestamp_us == c.timestamp_us()) head = &h;
  }
  if (head == nullptr) {
    return Status::NotFound("no head of size " + std::to_string(c.tree_size()) +
                            " signed at that time");
  }
  records::PublicKey witness{};
  std::copy(c.witness().begin(), c.witness().end(), witness.begin());
  std::array<uint8_t, 64> signature{};
  std::copy(c.signature().begin(), c.signature().end(), signature.begin());
  if (!records::VerifyCosignatureOf(*head, witness, c.cosigned_unix_us(), signature)) {
    return Status::PermissionDenied("the cosignature does not verify over the head of size " +
                                    std::to_string(c.tree_size()));
  }
  // Only a verified cosignature moves the pin: a bad one leaves the served head as it was.
  Result<records::SignedTreeHead> pinned = store_->PinHistory(c.tree_size(), c.timestamp_us());
  if (!pinned.ok()) return pinned.status();
  cosigned_.emplace(*pinned, c);
  return Status::Ok();
}

Result<v1::StatsReport> RecordAccess::Stats(int64_t from_us, int64_t to_us) {
  Result<std::vector<records::StatsRow>> rows = store_->Stats(from_us, to_us);
  if (!rows.ok()) return rows.status();
  v1::StatsReport out;
  for (const records::StatsRow& row : *rows) {
    v1::StatsRowView* v = out.add_rows();
    v->set_month(row.month);
    v->set_inquirer_code(row.inquirer);
    v->set_provider_code(row.provider);
    v->set_business_code(row.business);
    v->set_event(records::EventName(row.event));
    v->set_outcome(row.outcome);
    v->set_count(row.count);
  }
  return out;
}

}  // namespace ipn::core
