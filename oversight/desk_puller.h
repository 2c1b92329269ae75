// DeskPuller: brings the desk's verified copy (oversight/desk_store.h) up to the core's
// latest head — one incremental pull by sequence (RecordQuery.from_sequence), page by page
// into the store's staging, then the commit that verifies every page against the head. A
// pull costs in proportion to the records new since the last one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "ipn/v1/wire.pb.h"
#include "oversight/desk_store.h"

namespace ipn::oversight {

// Where pages come from: the commission's node (interface::AgencyClient::QueryRecords), or
// the core's RecordAccess directly in tests.
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  virtual Result<v1::RecordPage> Query(const v1::RecordQuery& query) = 0;
};

struct PullRound {
  uint64_t added = 0;      // records made visible
  uint64_t head_size = 0;  // the head the round ended at
  uint64_t pages = 0;
};

struct DeskPullOptions {
  uint32_t page_size = 1000;
  // Called after each page: (records staged so far, records the head holds beyond the copy).
  std::function<void(uint64_t staged, uint64_t total)> progress;
  // The desk's audit chain value, sent with every page (RecordQuery.desk_audit_head).
  std::string audit_head;
};

// One round. On a head that does not verify the store refuses it (recording the finding)
// and this returns its Corruption status; a source error drops what was staged and is
// returned as it is. Either way the copy and its counts stay as they were.
Result<PullRound> PullOnce(RecordSource& source, DeskStore& desk, int64_t now_unix_us,
                           const DeskPullOptions& options = {});

}  // namespace ipn::oversight
