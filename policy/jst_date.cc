// JST calendar days for the policy: parsing a link's "YYYY-MM-DD" and naming the day of a
// time. The calendar arithmetic is common/civil_time's.
#include "policy/jst_date.h"

#include "common/civil_time.h"

namespace ipn::policy {
namespace {

bool ParseDigits(std::string_view s, unsigned* out) {
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<int64_t> JstDayStartMicros(std::string_view date) {
  unsigned y = 0, m = 0, d = 0;
  if (date.size() != 10 || date[4] != '-' || date[7] != '-' ||
      !ParseDigits(date.substr(0, 4), &y) || !ParseDigits(date.substr(5, 2), &m) ||
      !ParseDigits(date.substr(8, 2), &d)) {
    return Status::InvalidArgument("date '" + std::string(date.substr(0, 32)) +
                                   "' is not of the form YYYY-MM-DD");
  }
  const CivilDate civil{y, m, d};
  if (y < 1900 || !IsValidDate(civil)) {
    return Status::InvalidArgument("date '" + std::string(date) + "' is not a calendar date");
  }
  return JstDayStart(DaysFromCivil(civil));
}

std::string JstDateOf(int64_t unix_us) {
  return ipn::JstDateOf(unix_us);
}

}  // namespace ipn::policy
