// RecordService: the core's answers to record queries. A person's history for the
// disclosure portal (by the portal's own agency symbol, non-disclosure exchanges
// withheld); for the oversight commission, time-range pulls in log order with inclusion
// proofs against one signed tree head, fresh heads with consistency proofs, and usage
// statistics. Who may ask what is decided by CoreRouter before these are called.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "ipn/v1/wire.pb.h"
#include "records/record_store.h"
#include "symbol/symbol_service.h"

namespace ipn::core {

class RecordService {
 public:
  RecordService(records::RecordStore* store, const symbol::SymbolService* symbols)
      : store_(store), symbols_(symbols) {}

  // Every record of the person `agency_symbol` names at `agency`, newest first, except
  // the exchanges (inquirer + request id) any record of which is marked non-disclosure,
  // and those not yet settled (the non-disclosure flag comes with the outcome).
  Result<v1::RecordPage> PersonHistory(std::string_view agency, std::string_view agency_symbol,
                                       bool with_proofs);

  // One page of the records from query.from_unix_us (inclusive) to query.to_unix_us
  // (exclusive), in sequence order, each with its record symbol and inclusion proof in
  // the page's tree head (signed when the pull starts; later pages reuse its size).
  Result<v1::RecordPage> Pull(const v1::RecordQuery& query);

  // A freshly signed head (new_size 0) or the stored head of new_size records and, when
  // 0 < old_size <= its size, the consistency proof from old_size to it.
  Result<v1::TreeHeadResponse> TreeHead(uint64_t old_size, uint64_t new_size = 0);

  Result<v1::StatsReport> Stats(int64_t from_us, int64_t to_us);

 private:
  // The latest signed head if it covers `min_size` records, else a newly signed one.
  Result<records::SignedTreeHead> HeadCovering(uint64_t min_size);
  Status AddView(const records::Record& r, bool with_proofs, uint64_t tree_size,
                 v1::ProvisionRecordView* view) const;

  records::RecordStore* store_;
  const symbol::SymbolService* symbols_;
};

// The wire view of a signed tree head.
void ToView(const records::SignedTreeHead& head, v1::SignedTreeHeadView* view);

}  // namespace ipn::core
