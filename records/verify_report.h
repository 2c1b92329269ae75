// VerifyReport: what RecordStore::Verify found — the checks made and every discrepancy,
// each naming the affected sequence numbers. Holds no record content.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "records/tree_head.h"

namespace ipn::records {

enum class FindingKind {
  kMissing,        // the tree or a signed head covers this sequence but no record is stored
  kAltered,        // the stored record fails authentication or decoding, or its leaf hash
                   // differs from the tree's
  kMisplaced,      // the record stored here belongs to another sequence (reordered)
  kInserted,       // a record the tree does not cover (beyond its size, or below the purge point)
  kIndexMismatch,  // a person- or time-index entry is missing, extra or does not match
  kTreeNode,       // a stored subtree hash differs from the one recomputed from the leaves
  kTreeHead,       // a signed head's root differs from the recomputed tree, or its signature
                   // or signer is not trusted
  kPurge,          // the purge point is not covered by a valid purge statement
};
const char* FindingKindName(FindingKind kind);

struct Finding {
  FindingKind kind;
  uint64_t first_sequence = 0;  // the affected sequences: [first, last]
  uint64_t last_sequence = 0;
  std::string detail;  // one line for an operator; sequence numbers only, never content
};

struct VerifyReport {
  uint64_t tree_size = 0;        // records ever appended (the tree's leaf count)
  uint64_t first_retained = 0;   // records below this were purged (their hashes remain)
  uint64_t records_checked = 0;  // records decrypted and re-hashed
  uint64_t index_entries_checked = 0;
  uint64_t heads_checked = 0;
  std::optional<SignedTreeHead> latest_head;  // the newest head whose root matched
  uint64_t unsigned_tail = 0;  // records after the newest signed head (not yet signed)
  std::vector<Finding> findings;
  uint64_t findings_omitted = 0;  // beyond the report's cap

  bool ok() const { return findings.empty() && findings_omitted == 0; }
  // Every affected sequence of one kind, ascending (ranges expanded, at most `limit`).
  std::vector<uint64_t> Sequences(FindingKind kind, size_t limit = 1000000) const;
};

}  // namespace ipn::records
