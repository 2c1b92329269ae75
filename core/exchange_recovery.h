// Exchange recovery: a core that stopped — cleanly or by a crash — forgot the exchanges
// it had open (they live in memory: ExchangeTable). On start, before it serves anyone, it
// reads the log's recent tail for every exchange that was opened but never closed.
//  * A lone core gives each a definite, recorded end: no outcome yet -> timed out,
//    "CORE_RESTARTED"; an outcome but no receipt -> received, "NOT_CONFIRMED". Late
//    outcomes and receipts for them then find no open exchange and are ignored (counted).
//  * A replicated core taking the lead resumes them instead (InquiryBroker::Resume): the
//    nodes send again what the failover may have lost, and each exchange ends as it would
//    have, or at its own deadline.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/status.h"
#include "records/record.h"
#include "records/record_store.h"

namespace ipn::core {

// An exchange the log shows opened and not closed.
struct OpenExchange {
  records::Record opening;  // its accepted record: the facts every later record carries
  // The provider's outcome when one is on record (kProvided, kNotHeld or kFailed).
  std::optional<records::Event> outcome;
  bool has_receipt = false;  // the inquirer's receipt is on record (before the outcome)
  bool non_disclosure = false;
};

// The exchanges in `store` opened at or after `since_us` (the longest an exchange can stay
// open: deadline + receipt grace, and some) and not closed by `now_us`, oldest first; and
// those accepted earlier with an outcome or receipt since (carried over several failovers
// in a row), found through the person's history.
Result<std::vector<OpenExchange>> FindOpenExchanges(const records::RecordStore& store,
                                                    int64_t since_us, int64_t now_us);

// The closing records for the exchanges in `store` opened at or after `since_us` (the
// longest an exchange can stay open: deadline + receipt grace, and some) and not closed.
// Each carries the exchange's facts (inquirer, provider, business, item, request id,
// record symbol, non-disclosure flag) and the time `now_us`.
Result<std::vector<records::Record>> CloseInterruptedExchanges(const records::RecordStore& store,
                                                               int64_t since_us, int64_t now_us);

}  // namespace ipn::core
