// VerifyPulledSet: signatures, inclusion proofs, sequence continuity and consistency.
#include "oversight/pull_verifier.h"

#include <algorithm>
#include <set>

#include "records/merkle.h"

namespace ipn::oversight {
namespace {

void Add(PullVerifyReport* report, std::string kind, std::vector<uint64_t> sequences,
         std::string detail) {
  std::sort(sequences.begin(), sequences.end());
  sequences.erase(std::unique(sequences.begin(), sequences.end()), sequences.end());
  report->findings.push_back({std::move(kind), std::move(sequences), std::move(detail)});
}

std::string List(const std::vector<uint64_t>& s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 20; ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  if (s.size() > 20) out += ", … (" + std::to_string(s.size()) + " in all)";
  return out;
}

}  // namespace

PullVerifyReport VerifyPulledSet(const PulledSet& set,
                                 const std::optional<records::PublicKey>& trusted_signer) {
  PullVerifyReport report;
  const records::PublicKey signer = trusted_signer.value_or(set.head.signer);
  if (!records::VerifyTreeHeadSignature(set.head, signer)) {
    Add(&report, "bad_head", {},
        "the pull's tree head (size " + std::to_string(set.head.tree_size) +
            ") is not signed by the core's records key");
    return report;  // nothing can be checked against a forged head
  }
  if (set.previous_head) {
    const records::SignedTreeHead& prev = *set.previous_head;
    if (!records::VerifyTreeHeadSignature(prev, signer)) {
      Add(&report, "bad_head", {}, "the previous head is not signed by the core's records key");
    } else if (!records::VerifyConsistency(prev.tree_size, set.head.tree_size, prev.root_hash,
                                           set.head.root_hash, set.consistency_path)) {
      Add(&report, "inconsistent_head", {},
          "the log of size " + std::to_string(set.head.tree_size) +
              " does not extend the earlier head of size " + std::to_string(prev.tree_size) +
              ": records before it were rewritten");
    }
  }

  // Every record's leaf must be in the signed tree at its sequence number.
  std::vector<uint64_t> altered, out_of_range;
  auto check = [&](const PulledRecord& p) {
    ++report.records_checked;
    const records::Hash leaf = records::RecordLeafHash(p.record);
    if (p.record.sequence >= set.head.tree_size ||
        !records::VerifyInclusion(leaf, p.record.sequence, set.head.tree_size, p.inclusion_path,
                                  set.head.root_hash)) {
      altered.push_back(p.record.sequence);
    }
  };
  if (set.before) check(*set.before);
  for (const PulledRecord& p : set.records) {
    check(p);
    if (p.record.time_unix_us < set.from_unix_us || p.record.time_unix_us >= set.to_unix_us) {
      out_of_range.push_back(p.record.sequence);
    }
  }
  if (set.after) check(*set.after);
  if (set.before && set.before->record.time_unix_us >= set.from_unix_us) {
    out_of_range.push_back(set.before->record.sequence);
  }
  if (set.after && set.after->record.time_unix_us < set.to_unix_us) {
    out_of_range.push_back(set.after->record.sequence);
  }
  if (!altered.empty()) {
    Add(&report, "altered", altered,
        "records whose content is not what the signed tree holds: " + List(altered));
  }
  if (!out_of_range.empty()) {
    Add(&report, "out_of_range", out_of_range,
        "records placed outside the pulled time range: " + List(out_of_range));
  }

  // Order and continuity: before, the records, after — consecutive sequence numbers.
  std::vector<uint64_t> seqs;
  if (set.before) seqs.push_back(set.before->record.sequence);
  for (const PulledRecord& p : set.records) seqs.push_back(p.record.sequence);
  if (set.after) seqs.push_back(set.after->record.sequence);
  std::vector<uint64_t> reordered, duplicate;
  std::set<uint64_t> seen;
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (!seen.insert(seqs[i]).second) duplicate.push_back(seqs[i]);
    if (i > 0 && seqs[i] < seqs[i - 1]) {
      reordered.push_back(seqs[i]);
      reordered.push_back(seqs[i - 1]);
    }
  }
  if (!duplicate.empty()) {
    Add(&report, "duplicate", duplicate, "records present twice: " + List(duplicate));
  }
  if (!reordered.empty()) {
    Add(&report, "reordered", reordered, "records out of log order: " + List(reordered));
  }
  std::vector<uint64_t> missing;
  if (!seen.empty()) {
    uint64_t expect = *seen.begin();
    for (uint64_t s : seen) {
      for (; expect < s && missing.size() < 1'000'000; ++expect) missing.push_back(expect);
      expect = s + 1;
    }
  }
  if (!set.before && !seen.empty() && *seen.begin() > 0) {
    // Nothing pins where the range starts: leading records could have been cut off.
    Add(&report, "unbounded", {*seen.begin()},
        "the pull lacks the record just before its range, so records before sequence " +
            std::to_string(*seen.begin()) + " could be missing unnoticed");
  }
  std::vector<uint64_t> misfiltered;
  for (const PulledRecord& p : set.records) {
    const bool match =
        set.agency.empty() || p.record.inquirer == set.agency || p.record.provider == set.agency;
    if (match != p.matches_filter) misfiltered.push_back(p.record.sequence);
  }
  if (!misfiltered.empty()) {
    Add(&report, "misfiltered", misfiltered,
        "records marked against the agency filter: " + List(misfiltered));
  }
  if (!set.after && !seen.empty() && *seen.rbegin() + 1 < set.head.tree_size) {
    // The range ends before the log does, so the first record after it must be present.
    missing.push_back(*seen.rbegin() + 1);
  }
  if (!missing.empty()) {
    Add(&report, "missing", missing,
        "sequence numbers the log holds but the pull lacks: " + List(missing));
  }
  return report;
}

}  // namespace ipn::oversight
