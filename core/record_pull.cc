// RecordAccess, the commission's pulls: a time range with proofs (`ipn oversight pull`),
// and the desk's incremental pull by sequence without them. Both page through one head
// signed when the pull starts; a page token names that head and the next sequence.
#include <algorithm>

#include "common/big_endian.h"
#include "common/limits.h"
#include "core/record_access.h"

namespace ipn::core {
namespace {

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

}  // namespace

Result<uint32_t> RecordAccess::PageSize(const v1::RecordQuery& query) {
  const uint32_t page_size = query.page_size() == 0 ? kDefaultPullPage : query.page_size();
  if (page_size > kMaxPullPage) {
    return Status::InvalidArgument("page_size must be at most " + std::to_string(kMaxPullPage));
  }
  return page_size;
}

Result<records::SignedTreeHead> RecordAccess::HeadOfPullToken(const std::string& token,
                                                              uint64_t* next) const {
  if (token.size() != 24) return Status::InvalidArgument("malformed page token");
  const uint64_t size = GetBigEndian64(token.data());
  const int64_t stamp = static_cast<int64_t>(GetBigEndian64(token.data() + 8));
  Result<std::vector<records::SignedTreeHead>> heads = store_->TreeHeads();
  if (!heads.ok()) return heads.status();
  for (const records::SignedTreeHead& h : *heads) {
    if (h.tree_size == size && h.timestamp_us == stamp) {
      // Nothing to read among purged records.
      *next = std::max(GetBigEndian64(token.data() + 16), store_->FirstRetained());
      return h;
    }
  }
  return Status::InvalidArgument("the page token names no signed head");
}

Result<v1::RecordPage> RecordAccess::Pull(const v1::RecordQuery& query) {
  proof_cache_.nodes.clear();
  const int64_t from = query.from_unix_us();
  const int64_t to = query.to_unix_us();
  if (from >= to) return Status::InvalidArgument("the time range is empty (from >= to)");
  Result<uint32_t> page_size = PageSize(query);
  if (!page_size.ok()) return page_size.status();

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
    Result<records::SignedTreeHead> token_head = HeadOfPullToken(query.page_token(), &next);
    if (!token_head.ok()) return token_head.status();
    head = *token_head;
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
  size_t page_bytes = 0;
  for (; seq < head.tree_size && static_cast<uint32_t>(out.records_size()) < *page_size &&
         page_bytes < limits::kMaxPullPageBytes;
       ++seq) {
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
    page_bytes += view->ByteSizeLong();
  }
  if (!ended && seq < head.tree_size) out.set_next_page_token(EncodePullToken(head, seq));
  return out;
}

Result<v1::RecordPage> RecordAccess::SequencePull(const v1::RecordQuery& query) {
  if (query.from_unix_us() != 0 || query.to_unix_us() != 0 || !query.agency_code().empty()) {
    return Status::InvalidArgument("a pull from a sequence takes no time range and no agency");
  }
  Result<uint32_t> page_size = PageSize(query);
  if (!page_size.ok()) return page_size.status();
  records::SignedTreeHead head;
  uint64_t next = query.from_sequence();
  if (query.page_token().empty()) {
    Result<records::SignedTreeHead> signed_head = store_->SignTreeHead();
    if (!signed_head.ok()) return signed_head.status();
    head = *signed_head;
    if (next > head.tree_size) {
      return Status::InvalidArgument("from_sequence " + std::to_string(next) +
                                     " is beyond the log (" + std::to_string(head.tree_size) +
                                     " records)");
    }
    if (next < store_->FirstRetained()) {
      return Status::FailedPrecondition(
          "the records before sequence " + std::to_string(store_->FirstRetained()) +
          " were purged at the end of their retention: pull from there");
    }
  } else {
    Result<records::SignedTreeHead> token_head = HeadOfPullToken(query.page_token(), &next);
    if (!token_head.ok()) return token_head.status();
    head = *token_head;
  }
  v1::RecordPage out;
  ToView(head, out.mutable_tree_head());
  // Log order with record symbols and no inclusion proofs: the desk extends its own compact
  // range with these leaves and compares the root with the head's. A record the store
  // cannot produce is skipped, and the desk refuses the gap.
  uint64_t seq = next;
  size_t page_bytes = 0;
  for (; seq < head.tree_size && static_cast<uint32_t>(out.records_size()) < *page_size &&
         page_bytes < limits::kMaxPullPageBytes;
       ++seq) {
    Result<records::Record> r = store_->Get(seq);
    if (!r.ok()) continue;
    v1::ProvisionRecordView* view = out.add_records();
    IPN_RETURN_IF_ERROR(AddView(*r, false, head.tree_size, view));
    view->set_record_symbol(r->record_symbol.data(), r->record_symbol.size());
    page_bytes += view->ByteSizeLong();
  }
  if (seq < head.tree_size) out.set_next_page_token(EncodePullToken(head, seq));
  return out;
}

}  // namespace ipn::core
