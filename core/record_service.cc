// RecordService: person histories for the portal, pulls, heads and statistics for the
// commission. Reads only durable records; never writes (audit records of these reads are
// CoreRouter's job).
#include "core/record_service.h"

#include <set>

#include "common/encoding.h"

namespace ipn::core {
namespace {

void AppendBigEndian64(uint64_t v, std::string& out) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t GetBigEndian64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

constexpr size_t kHistoryPage = 1000;
constexpr size_t kMaxHistoryRecords = 50'000;  // 7 years of a very busy person
constexpr uint32_t kDefaultPullPage = 500;
constexpr uint32_t kMaxPullPage = 1000;

// Pull page token: u64 head tree size | i64 head timestamp | u64 next sequence.
std::string EncodePullToken(const records::SignedTreeHead& head, uint64_t next_sequence) {
  std::string token;
  AppendBigEndian64(head.tree_size, token);
  AppendBigEndian64(static_cast<uint64_t>(head.timestamp_us), token);
  AppendBigEndian64(next_sequence, token);
  return token;
}

std::string ExchangeKey(const records::Record& r) {
  return r.inquirer + '\n' + r.request_id;
}

}  // namespace

void ToView(const records::SignedTreeHead& head, v1::SignedTreeHeadView* view) {
  view->set_tree_size(head.tree_size);
  view->set_timestamp_us(head.timestamp_us);
  view->set_root_hash(head.root_hash.data(), head.root_hash.size());
  view->set_signer(head.signer.data(), head.signer.size());
  view->set_signature(head.signature.data(), head.signature.size());
}

Status RecordService::AddView(const records::Record& r, bool with_proofs, uint64_t tree_size,
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
  Result<std::vector<records::Hash>> path = store_->InclusionProof(r.sequence, tree_size);
  if (!path.ok())
    return path.status().WithContext("inclusion proof of record " + std::to_string(r.sequence));
  for (const records::Hash& h : *path) view->add_inclusion_path(h.data(), h.size());
  return Status::Ok();
}

Result<records::SignedTreeHead> RecordService::HeadCovering(uint64_t min_size) {
  Result<records::SignedTreeHead> latest = store_->LatestTreeHead();
  if (latest.ok() && latest->tree_size >= min_size) return latest;
  return store_->SignTreeHead();
}

Result<v1::RecordPage> RecordService::PersonHistory(std::string_view agency,
                                                    std::string_view agency_symbol,
                                                    bool with_proofs) {
  Result<symbol::RecordSymbol> person = symbols_->RecordSymbolOf(AsBytes(agency_symbol), agency);
  if (!person.ok()) return person.status();

  std::vector<records::Record> all;
  std::string token;
  do {
    Result<records::RecordStore::HistoryPage> page =
        store_->History(person->bytes, kHistoryPage, token);
    if (!page.ok()) return page.status();
    for (records::Record& r : page->records) all.push_back(std::move(r));
    token = std::move(page->next_page_token);
    if (all.size() > kMaxHistoryRecords) {
      return Status::ResourceExhausted("the history holds more than " +
                                       std::to_string(kMaxHistoryRecords) + " records");
    }
  } while (!token.empty());

  // Withheld: exchanges the provider declared non-disclosure, and exchanges not yet
  // settled — the flag comes with the provider's outcome, so until an exchange has an
  // end (refused, provided, not held, failed, timed out) it is not shown at all.
  std::set<std::string> withheld, settled;
  for (const records::Record& r : all) {
    if (r.non_disclosure) withheld.insert(ExchangeKey(r));
    switch (r.event) {
      case records::Event::kInquiryRefused:
      case records::Event::kProvided:
      case records::Event::kNotHeld:
      case records::Event::kFailed:
      case records::Event::kTimedOut: settled.insert(ExchangeKey(r)); break;
      default: break;
    }
  }
  for (const records::Record& r : all) {
    if (settled.count(ExchangeKey(r)) == 0) withheld.insert(ExchangeKey(r));
  }
  uint64_t newest = 0;
  for (const records::Record& r : all) newest = std::max(newest, r.sequence + 1);

  v1::RecordPage out;
  uint64_t tree_size = 0;
  if (with_proofs && !all.empty()) {
    Result<records::SignedTreeHead> head = HeadCovering(newest);
    if (!head.ok()) return head.status();
    tree_size = head->tree_size;
    ToView(*head, out.mutable_tree_head());
  }
  uint32_t withheld_count = 0;
  for (const records::Record& r : all) {
    if (withheld.count(ExchangeKey(r)) != 0) {
      ++withheld_count;
      continue;
    }
    IPN_RETURN_IF_ERROR(AddView(r, with_proofs, tree_size, out.add_records()));
  }
  out.set_withheld(withheld_count);
  return out;
}

Result<v1::RecordPage> RecordService::Pull(const v1::RecordQuery& query) {
  const int64_t from = query.from_unix_us();
  const int64_t to = query.to_unix_us();
  if (from >= to) return Status::InvalidArgument("the time range is empty (from >= to)");
  uint32_t page_size = query.page_size() == 0 ? kDefaultPullPage : query.page_size();
  if (page_size > kMaxPullPage) {
    return Status::InvalidArgument("page_size must be at most " + std::to_string(kMaxPullPage));
  }

  // The head this pull's proofs lead to, and where this page starts.
  records::SignedTreeHead head;
  uint64_t next = 0;
  const bool first_page = query.page_token().empty();
  if (first_page) {
    Result<records::SignedTreeHead> signed_head = store_->SignTreeHead();
    if (!signed_head.ok()) return signed_head.status();
    head = *signed_head;
    bool found = false;
    Status s = store_->Pull(from, to, "", [&](const records::Record& r) {
      if (r.sequence >= head.tree_size) return true;
      next = r.sequence;
      found = true;
      return false;
    });
    if (!s.ok()) return s;
    if (!found) next = head.tree_size;  // nothing in the range
  } else {
    const std::string& t = query.page_token();
    if (t.size() != 24) return Status::InvalidArgument("malformed page token");
    const uint64_t size = GetBigEndian64(t.data());
    const int64_t stamp = static_cast<int64_t>(GetBigEndian64(t.data() + 8));
    next = GetBigEndian64(t.data() + 16);
    Result<std::vector<records::SignedTreeHead>> heads = store_->TreeHeads();
    if (!heads.ok()) return heads.status();
    bool known = false;
    for (const records::SignedTreeHead& h : *heads) {
      if (h.tree_size == size && h.timestamp_us == stamp) {
        head = h;
        known = true;
      }
    }
    if (!known) return Status::InvalidArgument("the page token names no signed head");
    next = std::max(next, store_->FirstRetained());  // nothing to read among purged ones
  }

  v1::RecordPage out;
  ToView(head, out.mutable_tree_head());
  if (first_page && next > store_->FirstRetained() && next < head.tree_size) {
    Result<records::Record> before = store_->Get(next - 1);
    if (before.ok())
      IPN_RETURN_IF_ERROR(AddView(*before, true, head.tree_size, out.mutable_before()));
  }
  // Sequence order; a record the store cannot produce (deleted, unreadable) is skipped
  // and shows as a gap to the verifier.
  uint64_t seq = next;
  bool ended = false;
  for (; seq < head.tree_size && static_cast<uint32_t>(out.records_size()) < page_size; ++seq) {
    Result<records::Record> r = store_->Get(seq);
    if (!r.ok()) continue;
    if (r->time_unix_us >= to) {
      IPN_RETURN_IF_ERROR(AddView(*r, true, head.tree_size, out.mutable_after()));
      ended = true;
      break;
    }
    v1::ProvisionRecordView* view = out.add_records();
    IPN_RETURN_IF_ERROR(AddView(*r, true, head.tree_size, view));
    view->set_matches_filter(query.agency_code().empty() || r->inquirer == query.agency_code() ||
                             r->provider == query.agency_code());
  }
  if (!ended && seq < head.tree_size) out.set_next_page_token(EncodePullToken(head, seq));
  return out;
}

Result<v1::TreeHeadResponse> RecordService::TreeHead(uint64_t old_size, uint64_t new_size) {
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

Result<v1::StatsReport> RecordService::Stats(int64_t from_us, int64_t to_us) {
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
