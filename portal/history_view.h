// HistoryView: a citizen's records as the portal shows them — each record with the
// agencies', business's and item's names (Japanese and English) from the policy, its
// record symbol and inclusion proof so the page can check it against the signed tree
// head, filtered to a period of JST calendar days; and the same as a CSV download.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "ipn/v1/wire.pb.h"
#include "policy/policy.h"

namespace ipn::portal {

struct Period {
  std::optional<int64_t> from_us;  // inclusive
  std::optional<int64_t> to_us;    // exclusive
  bool Contains(int64_t t) const { return (!from_us || t >= *from_us) && (!to_us || t < *to_us); }
};

// "YYYY-MM-DD" JST days, both optional and inclusive; from after to is an error.
Result<Period> ParsePeriod(std::string_view from, std::string_view to);

nlohmann::json HistoryJson(const v1::RecordPage& page, const policy::Policy& names,
                           const Period& period);

// UTF-8 with a byte-order mark (spreadsheets), a header row, one row per record.
// `japanese`: headers, events and outcomes in Japanese words (the default download);
// otherwise English headers and the recorded codes.
std::string HistoryCsv(const v1::RecordPage& page, const policy::Policy& names,
                       const Period& period, bool japanese = true);

}  // namespace ipn::portal
