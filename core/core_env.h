// CoreEnv: the world as the core's rules see it — the seam between what the core decides
// (InquiryBroker, RecordAccess, OperatorAudit) and the loop that carries it out
// (CoreRouter). As LevelDB's Env does for files, it lets every rule on the inquiry path
// be specified by a unit test with a fake: no socket, no thread, a manual clock.
//
// Ordering contract (see CoreRouter::Impl::Commit): a message passed to SendAfterCommit
// leaves only once every record added before it is durable; SendNow leaves at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "ipn/v1/wire.pb.h"
#include "records/record.h"

namespace ipn::core {

class CoreEnv {
 public:
  virtual ~CoreEnv() = default;

  virtual int64_t NowMicros() const = 0;

  // Adds a provision or audit record to the current group commit.
  virtual void AddRecord(records::Record record) = 0;

  // Queues `envelope` for `agency`'s node; it leaves once the records added so far are
  // durable. A decision never reaches an inquirer before its records could be lost.
  virtual void SendAfterCommit(std::string agency, v1::Envelope envelope) = 0;

  // Sends at once, ahead of the records' sync (only forwards to providers do this, so
  // that the provider works while the disk syncs). Unavailable when the agency's node is
  // not connected.
  virtual Status SendNow(std::string_view agency, const v1::Envelope& envelope) = 0;

  // The id of the exchange `inquirer` opens under `request_id`: a keyed hash of the two
  // (128 bits) under a key every site derives from the records key, so that a new leader
  // names an exchange it resumes after a failover as the former leader did, and the
  // outcomes and receipts nodes send again find it. Unique because a request id opens at
  // most one exchange; reveals nothing of the request id to the provider.
  virtual std::string NewExchangeId(std::string_view inquirer, std::string_view request_id) = 0;

  // Whether a durable record says `inquirer` already used `request_id` (the durable half
  // of the duplicate guard; records not yet durable are the broker's own memory).
  virtual bool RequestIdRecorded(std::string_view inquirer, std::string_view request_id) = 0;
};

}  // namespace ipn::core
