// RecordAccess: who may read the provision records, and what they get (DESIGN.md §6).
// The disclosure portal reads one person's history by its own agency symbol for them
// (non-disclosure and unsettled exchanges withheld); the oversight commission pulls time
// ranges in log order with inclusion proofs against one signed tree head, fresh heads
// with consistency proofs, and usage statistics. The asker's directory class decides, on
// every request (a suspension takes effect at once); every pull page, statistics read
// and refusal is recorded as an audit record before the reply leaves.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/logger.h"
#include "common/status.h"
#include "core/core_env.h"
#include "ipn/v1/wire.pb.h"
#include "policy/policy_store.h"
#include "records/record_store.h"
#include "symbol/symbol_service.h"

namespace ipn::core {

class RecordAccess {
 public:
  RecordAccess(records::RecordStore* store, const symbol::SymbolService* symbols,
               const policy::PolicyStore* policy, CoreEnv* env, Logger* log)
      : store_(store), symbols_(symbols), policy_(policy), env_(env), log_(log) {}

  // A RecordQuery, TreeHeadRequest or StatsQuery from `asker` (the authenticated agency):
  // decided, served, audited; the reply leaves after its audit record is durable.
  void OnRecordQuery(const std::string& asker, const v1::Envelope& envelope);
  void OnTreeHeadRequest(const std::string& asker, const v1::Envelope& envelope);
  void OnStatsQuery(const std::string& asker, const v1::Envelope& envelope);

  // The records of the person `agency_symbol` names at `agency`, in log order: the
  // exchanges settled by a disclosed record (records/person_map.h), without any record
  // flagged non-disclosure. With proofs: as of the head the commission cosigned last (with
  // its cosignature) when there is one, else the latest; and the proof that these are
  // all the person's disclosed exchanges as of that head.
  Result<v1::RecordPage> PersonHistory(std::string_view agency, std::string_view agency_symbol,
                                       bool with_proofs);

  // The commission's view of one person (by record symbol): every record up to the latest
  // head, withheld and unsettled ones too, with inclusion proofs and both history proofs,
  // so that it can prove the person's history complete and every withheld exchange real.
  Result<v1::RecordPage> PersonRecords(std::span<const uint8_t> record_symbol);

  // One page of the records from query.from_unix_us (inclusive) to query.to_unix_us
  // (exclusive), in sequence order, each with its record symbol and inclusion proof in
  // the page's tree head (signed when the pull starts; later pages reuse its size).
  Result<v1::RecordPage> Pull(const v1::RecordQuery& query);
  // One page of the records from query.from_sequence to the head signed when the pull
  // started, in log order, with record symbols but no proofs (the desk's incremental pull:
  // it verifies the page against the head by extending its own compact range).
  Result<v1::RecordPage> SequencePull(const v1::RecordQuery& query);

  // A freshly signed head (new_size 0) or the stored head of new_size records and, when
  // 0 < old_size <= its size, the consistency proof from old_size to it.
  Result<v1::TreeHeadResponse> TreeHead(uint64_t old_size, uint64_t new_size = 0);

  Result<v1::StatsReport> Stats(int64_t from_us, int64_t to_us);

  // The commission's witness publishes its cosignature of a head this store signed: kept
  // (with the head's history map pinned) when it verifies over that head.
  Status AcceptCosignature(const v1::CosignatureView& cosignature);

 private:
  bool AskerHasClass(const std::string& asker, std::string_view agency_class) const;
  void Refuse(const std::string& asker, const v1::Envelope& envelope, const std::string& action,
              const std::string& why);
  void Audit(const std::string& asker, const std::string& action, const std::string& agency,
             const std::string& detail, const std::string& outcome, const std::string& request_id);
  void SendError(const std::string& asker, const std::string& request_id, const Status& status);
  v1::Envelope Reply(const std::string& request_id) const;
  // Every retained record of the person, in log order (at most kMaxHistoryRecords).
  Result<std::vector<records::Record>> RecordsInLogOrder(
      std::span<const uint8_t, 32> record_symbol) const;
  Status AddView(const records::Record& r, bool with_proofs, uint64_t tree_size,
                 v1::ProvisionRecordView* view) const;
  static Result<uint32_t> PageSize(const v1::RecordQuery& query);
  // The head a page token names (one this store signed) and, in `next`, where to go on.
  Result<records::SignedTreeHead> HeadOfPullToken(const std::string& token, uint64_t* next) const;

  records::RecordStore* store_;
  const symbol::SymbolService* symbols_;
  const policy::PolicyStore* policy_;
  CoreEnv* env_;
  Logger* log_;
  // Shared by the proofs of one page (cleared per page: it holds about two hashes a leaf).
  mutable records::RecordStore::ProofCache proof_cache_;
  // The head the commission cosigned last, and its cosignature.
  std::optional<std::pair<records::SignedTreeHead, v1::CosignatureView>> cosigned_;
};

// The wire view of a signed tree head.
void ToView(const records::SignedTreeHead& head, v1::SignedTreeHeadView* view);

}  // namespace ipn::core
