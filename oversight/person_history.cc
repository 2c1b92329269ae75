// The commission's check of one person's complete history (person_history.h).
#include "oversight/person_history.h"

#include <sodium.h>

#include "common/encoding.h"
#include "oversight/pulled_set.h"
#include "records/merkle.h"

namespace ipn::oversight {
namespace {

Status CopyHash(const std::string& bytes, const char* what, records::Hash* out) {
  if (bytes.size() != out->size()) {
    return Status::InvalidArgument(std::string(what) + " must be 32 bytes");
  }
  std::copy(bytes.begin(), bytes.end(), out->begin());
  return Status::Ok();
}

// The history the proof opens, checked against `root`; `what` names the map.
Result<records::HistoryState> Opened(const v1::HistoryProofView& view,
                                     const records::RecordSymbolBytes& person,
                                     const records::Hash& root, const char* what) {
  Result<records::MapProof> proof = MapProofFromView(view);
  if (!proof.ok()) return proof.status().WithContext(what);
  if (proof->key != person) {
    return Status::Corruption(std::string("the ") + what + " proof is for another person");
  }
  Result<records::HistoryState> state = records::VerifyMapProof(*proof, root);
  if (!state.ok()) return state.status().WithContext(what);
  return state;
}

}  // namespace

Result<records::MapProof> MapProofFromView(const v1::HistoryProofView& view) {
  records::MapProof p;
  IPN_RETURN_IF_ERROR(CopyHash(view.key(), "the proof's key", &p.key));
  switch (view.end()) {
    case v1::HistoryProofView::END_LEAF:
      p.end = records::MapProof::End::kLeaf;
      IPN_RETURN_IF_ERROR(CopyHash(view.chain(), "the proof's chain", &p.value.chain));
      p.value.count = view.count();
      break;
    case v1::HistoryProofView::END_EMPTY: p.end = records::MapProof::End::kEmpty; break;
    case v1::HistoryProofView::END_OTHER_LEAF:
      p.end = records::MapProof::End::kOtherLeaf;
      IPN_RETURN_IF_ERROR(CopyHash(view.other_key(), "the proof's other key", &p.other_key));
      IPN_RETURN_IF_ERROR(CopyHash(view.other_value(), "the proof's other value", &p.other_value));
      break;
    default: return Status::InvalidArgument("the proof has no end");
  }
  if (view.siblings_size() > 256) return Status::InvalidArgument("the proof is too long");
  for (const std::string& s : view.siblings()) {
    records::Hash h{};
    IPN_RETURN_IF_ERROR(CopyHash(s, "a sibling", &h));
    p.siblings.push_back(h);
  }
  return p;
}

Result<PersonHistoryReport> VerifyPersonHistory(const v1::RecordPage& page,
                                                const records::PublicKey& records_key,
                                                const records::RecordSymbolBytes& person) {
  PersonHistoryReport report;
  Result<records::SignedTreeHead> head = FromView(page.tree_head());
  if (!head.ok()) return head.status().WithContext("the head");
  report.head = *head;
  if (head->version != 2) {
    return Status::Corruption("the head does not commit to per-person histories (version " +
                              std::to_string(head->version) + ")");
  }
  if (!records::VerifyTreeHeadSignature(*head, records_key)) {
    return Status::PermissionDenied("the head is not signed by the records key " +
                                    HexEncode(records_key));
  }
  report.person = person;

  std::vector<records::Hash> disclosed, withheld;
  uint64_t last = 0;
  for (int i = 0; i < page.records_size(); ++i) {
    Result<PulledRecord> pulled = FromView(page.records(i));
    if (!pulled.ok()) return pulled.status();
    const records::Record& r = pulled->record;
    const std::string which = "record " + std::to_string(r.sequence);
    if (i > 0 && r.sequence <= last) {
      return Status::Corruption(which + " is out of order or shown twice");
    }
    last = r.sequence;
    if (r.record_symbol != report.person) {
      return Status::Corruption(which + " belongs to another person");
    }
    const records::Hash leaf = records::RecordLeafHash(r);
    if (!records::VerifyInclusion(leaf, r.sequence, head->tree_size, pulled->inclusion_path,
                                  head->root_hash)) {
      return Status::Corruption(which + " is not included in the head");
    }
    switch (records::HistoryKindOf(r)) {
      case records::HistoryKind::kDisclosed: disclosed.push_back(leaf); break;
      case records::HistoryKind::kWithheld:
        withheld.push_back(leaf);
        report.withheld_settling.push_back(r);
        break;
      case records::HistoryKind::kNone: break;
    }
    ++report.records;
  }
  Result<records::HistoryState> d =
      Opened(page.history_proof(), report.person, head->history.disclosed, "disclosed");
  if (!d.ok()) return d.status();
  Result<records::HistoryState> w =
      Opened(page.withheld_proof(), report.person, head->history.withheld, "withheld");
  if (!w.ok()) return w.status();
  const records::HistoryState shown_d = records::ChainOf(disclosed);
  const records::HistoryState shown_w = records::ChainOf(withheld);
  if (shown_d.count != d->count || shown_d.chain != d->chain) {
    return Status::Corruption(
        "the disclosed exchanges are not the person's: " + std::to_string(shown_d.count) +
        " given, the head commits to " + std::to_string(d->count));
  }
  if (shown_w.count != w->count || shown_w.chain != w->chain) {
    return Status::Corruption(
        "the withheld exchanges are not the person's: " + std::to_string(shown_w.count) +
        " given, the head commits to " + std::to_string(w->count));
  }
  report.disclosed = d->count;
  report.withheld = w->count;
  return report;
}

}  // namespace ipn::oversight
