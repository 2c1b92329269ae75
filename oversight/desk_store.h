// DeskStore: the commission's desk's verified copy of the provision log (issue #17), kept
// encrypted at rest, with the counts its views read.
//
// Records enter in two steps. Stage() writes a page of consecutive records after what is
// already staged (encrypted, invisible to every view); Commit(head) accepts a signed tree
// head covering exactly what is staged and makes it visible — but only when the head is
// signed by the trusted records key and the desk's compact range (records/merkle.h),
// extended by the staged records' leaf hashes, gives the head's root. So the verification
// costs one leaf hash and about one node hash per new record, and a head inconsistent with
// any earlier one (a rewritten log), an altered, missing, inserted or reordered record
// cannot be committed: Commit then drops what was staged, keeps the copy, its counts and
// its head as they were, records the finding (Findings()) and returns Corruption naming the
// head. Nothing is ever half-visible: a commit is one RocksDB write.
//
// At rest: every record is sealed with XChaCha20-Poly1305 under the desk's data key (its
// nonce: a random 128-bit prefix per page and the record's sequence; the sequence is also
// associated data, so a sealed record cannot be moved to another place). Counts are plain
// — they are what the desk shows — and name agencies, businesses, items and outcomes,
// never a person.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/secret.h"
#include "common/status.h"
#include "records/merkle.h"
#include "records/record.h"
#include "records/tree_head.h"

namespace ipn::oversight {

struct DeskStoreOptions {
  std::string dir;                   // created if missing
  SecretBytes data_key;              // 32 bytes: seals the records at rest
  records::PublicKey records_key{};  // the core's records signing key, as the commission knows it
  // Bounds what a misbehaving core can make the desk hold before a head is committed.
  uint64_t max_staged_records = 20'000'000;
};

// What the counts are kept by: a JST calendar month or day, the inquirer, the business,
// the item, the event and — for refusals — the reason. Audit records (the core's operator
// actions) are counted under their event with the action as `business`.
struct VolumeRow {
  std::string period;  // "YYYY-MM" or "YYYY-MM-DD" (JST)
  std::string inquirer, business, item;
  records::Event event = records::Event::kInquiryAccepted;
  std::string reason;  // the refusal's reason; empty for other events
  uint64_t count = 0;
};

enum class Granularity { kMonth, kDay };

// What a view adds up by, besides the period: every field (kNone: the rows as kept), or
// one of them — the others are then empty in its rows (kEvent keeps refusals' reasons).
enum class GroupBy { kNone, kInquirer, kBusiness, kItem, kEvent };

// A view's filter: periods [from, to] inclusive ("YYYY-MM" for months, "YYYY-MM-DD" for
// days; empty = open), and optionally one inquirer.
struct VolumeQuery {
  Granularity granularity = Granularity::kMonth;
  std::string from, to;
  std::string inquirer;  // empty: every inquirer
  GroupBy group_by = GroupBy::kNone;
};

// A head the desk committed, with when it did.
struct CommittedHead {
  records::SignedTreeHead head;
  int64_t committed_unix_us = 0;
};

// A refused commit: which head, what was wrong.
struct DeskFinding {
  int64_t found_unix_us = 0;
  uint64_t head_size = 0;
  std::string kind;    // "bad_signature", "inconsistent", "not_contiguous", "too_many"
  std::string detail;  // one sentence
};

class DeskStore {
 public:
  static Result<std::unique_ptr<DeskStore>> Open(DeskStoreOptions options);
  virtual ~DeskStore() = default;

  // Records verified and visible; the head that covers them (none before the first).
  virtual uint64_t size() const = 0;
  virtual std::optional<records::SignedTreeHead> head() const = 0;
  // Records staged beyond size(), waiting for a head.
  virtual uint64_t staged() const = 0;

  // Appends a page of records whose sequences continue exactly from size() + staged().
  // InvalidArgument (nothing staged) when they do not; ResourceExhausted (nothing staged)
  // over max_staged_records.
  virtual Status Stage(std::span<const records::Record> page) = 0;
  // Verifies `head` against everything staged and, when it holds, makes it visible (see
  // the file comment). `now_unix_us` stamps the head's entry or the finding.
  virtual Status Commit(const records::SignedTreeHead& head, int64_t now_unix_us) = 0;
  // Forgets what is staged (a pull given up).
  virtual Status DropStaged() = 0;

  virtual Result<std::vector<VolumeRow>> Volumes(const VolumeQuery& query) const = 0;
  // Visible records by sequence (ascending; NotFound for one not visible).
  virtual Result<std::vector<records::Record>> Records(
      std::span<const uint64_t> sequences) const = 0;
  // Visible records [begin, end) in log order, at most `limit`.
  virtual Result<std::vector<records::Record>> Range(uint64_t begin, uint64_t end,
                                                     size_t limit) const = 0;
  // The RFC 9162 inclusion proof of visible record `sequence` in the tree of its first
  // `tree_size` records (at most size(); a committed head's size for a proof that head's
  // root checks). O(log n) stored subtrees and at most 126 records read (63 for the
  // small subtrees beside the record, 63 at the tree's ragged right edge).
  virtual Result<std::vector<records::Hash>> InclusionProof(uint64_t sequence,
                                                            uint64_t tree_size) const = 0;
  virtual Result<std::vector<CommittedHead>> Heads() const = 0;
  // Refused heads, in order: the same refusal repeated (same kind and head size, as a
  // desk polling a lying core meets it every round) is recorded once; at most 100,000.
  virtual Result<std::vector<DeskFinding>> Findings() const = 0;
};

}  // namespace ipn::oversight
