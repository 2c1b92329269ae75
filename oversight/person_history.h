// PersonHistory: the commission's proof that one person's history is complete — what an
// investigator shows a court. From the core's answer to a query by record symbol (every
// record of the person, withheld ones included, and both history proofs of a version 2
// head: records/person_map.h) it checks, without trusting the core: the head's signature
// by the pinned records key; each record's inclusion in that head; that each record is the
// person's; that the settling records not flagged non-disclosure are exactly the disclosed
// chain the head commits to, and the flagged ones exactly the withheld chain. So every
// withheld exchange exists in the log, is flagged, and belongs to the person it names,
// and none is missing.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "ipn/v1/wire.pb.h"
#include "records/person_map.h"
#include "records/record.h"
#include "records/tree_head.h"

namespace ipn::oversight {

struct PersonHistoryReport {
  records::SignedTreeHead head;
  records::RecordSymbolBytes person{};
  uint64_t records = 0;    // records of the person up to the head
  uint64_t disclosed = 0;  // settled exchanges a citizen's page shows
  uint64_t withheld = 0;   // settled exchanges withheld under non-disclosure
  std::vector<records::Record> withheld_settling;  // each one's settling record
};

// The history of `person` (the record symbol asked for). Corruption naming the first
// thing that does not hold (an answer about anyone else included); PermissionDenied when
// the head is not signed by `records_key`.
Result<PersonHistoryReport> VerifyPersonHistory(const v1::RecordPage& page,
                                                const records::PublicKey& records_key,
                                                const records::RecordSymbolBytes& person);

// The wire's proof as a records::MapProof (InvalidArgument when malformed).
Result<records::MapProof> MapProofFromView(const v1::HistoryProofView& view);

}  // namespace ipn::oversight
