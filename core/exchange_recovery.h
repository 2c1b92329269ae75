// Exchange recovery: a core that stopped — cleanly or by a crash — forgot the exchanges
// it had open (they live in memory: ExchangeTable). On start, before it serves anyone, it
// reads the log's recent tail and gives every exchange that was opened but never closed a
// definite, recorded end: no outcome yet -> timed out, "CORE_RESTARTED"; an outcome but
// no receipt -> received, "NOT_CONFIRMED". Late outcomes and receipts for them then find
// no open exchange and are ignored (counted), as after any close.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "records/record.h"
#include "records/record_store.h"

namespace ipn::core {

// The closing records for the exchanges in `store` opened at or after `since_us` (the
// longest an exchange can stay open: deadline + receipt grace, and some) and not closed.
// Each carries the exchange's facts (inquirer, provider, business, item, request id,
// record symbol, non-disclosure flag) and the time `now_us`.
Result<std::vector<records::Record>> CloseInterruptedExchanges(const records::RecordStore& store,
                                                               int64_t since_us, int64_t now_us);

}  // namespace ipn::core
