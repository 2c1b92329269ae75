// DeskWorld: a deterministic quarter of provision records for the desk's tests (the
// DeskService tests and the desk's browser test through ipn_desk_fixture): four agencies'
// ordinary exchanges on weekdays in office hours, 2026-07-01 to 2026-09-30 (JST), with a
// few refusals, one exchange whose `provided` was sent twice (a failover's resend), and
// three anomalies planted so that each is raised by exactly its own records:
//   volume        MUN-131016, 80 inquiries between 14:00 and 15:00 JST on 2026-09-15
//   person_focus  PEN-0001, 12 inquiries about one person from 11:00 JST on 2026-09-22
//   off_hours     INS-0001, 3 inquiries at 02:10 JST on 2026-09-26
// No agency has ordinary exchanges on the day of its planted anomaly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "records/record.h"

namespace ipn::oversight::testing {

struct PlantedFlag {
  std::string rule, agency;
  std::vector<uint64_t> sequences;  // the inquiries that raise it, ascending
};

struct DeskWorld {
  std::vector<records::Record> records;  // log order; sequence = index
  PlantedFlag volume, person_focus, off_hours;
};

DeskWorld MakeDeskWorld(uint64_t seed = 1);

// A few more ordinary exchanges after `after` (for a pull that adds records).
std::vector<records::Record> MoreExchanges(int64_t after_unix_us, int count,
                                           uint64_t first_sequence);

// The tariff the desk's tests sign: 0.50 yen, one business at 0.30.
inline constexpr char kDeskTariffText[] =
    "# The desk tests' tariff\n"
    "version = 1\n"
    "effective_from = 2026-04-01\n"
    "yen_per_exchange = 0.50\n"
    "business.np-benefit = 0.30\n";

}  // namespace ipn::oversight::testing
