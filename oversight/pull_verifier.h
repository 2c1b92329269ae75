// VerifyPulledSet: the commission's check of a pull, with nothing but the pull and the
// core's records signing key. It finds records that were altered (their recomputed leaf
// is not in the signed tree), missing (a gap in the sequence numbers between the records
// just outside the range), reordered or duplicated (sequence numbers out of order in the
// pull), out of the pulled range, and a head that is forged or inconsistent with the
// commission's earlier head — and names the sequence numbers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "oversight/pulled_set.h"
#include "records/tree_head.h"

namespace ipn::oversight {

struct PullFinding {
  // "bad_head", "inconsistent_head", "altered", "missing", "unbounded" (no record just
  // before the range), "reordered", "duplicate", "out_of_range", "misfiltered".
  std::string kind;
  std::vector<uint64_t> sequences;  // ascending; empty for head findings
  std::string detail;               // one sentence
};

struct PullVerifyReport {
  uint64_t records_checked = 0;  // record and context lines whose proofs were checked
  std::vector<PullFinding> findings;
  bool ok() const { return findings.empty(); }
};

// `trusted_signer`: the core's records signing key as the commission knows it; when
// absent the head's own signer is used (the report then only proves self-consistency).
PullVerifyReport VerifyPulledSet(const PulledSet& set,
                                 const std::optional<records::PublicKey>& trusted_signer);

}  // namespace ipn::oversight
