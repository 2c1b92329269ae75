// Office hours: the "HH:MM-HH:MM" text form.
#include "oversight/office_hours.h"

#include <cstdio>

namespace ipn::oversight {
namespace {

constexpr int kMinutesPerDay = 24 * 60;

bool ParseTwoDigits(std::string_view text, int* out) {
  if (text.size() != 2 || text[0] < '0' || text[0] > '9' || text[1] < '0' || text[1] > '9') {
    return false;
  }
  *out = (text[0] - '0') * 10 + (text[1] - '0');
  return true;
}

// "HH:MM" → minute of the day, 0..1440 (24:00 included; the caller decides where it fits).
bool ParseClock(std::string_view text, int* minute) {
  int h = 0, m = 0;
  if (text.size() != 5 || text[2] != ':' || !ParseTwoDigits(text.substr(0, 2), &h) ||
      !ParseTwoDigits(text.substr(3, 2), &m) || m > 59 || h > 24 || (h == 24 && m != 0)) {
    return false;
  }
  *minute = h * 60 + m;
  return true;
}

// A minute of the day (0…1440) as "HH:MM".
std::string MinuteOfDay(int minute) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

}  // namespace

Result<OfficeHours> ParseOfficeHours(std::string_view text) {
  const auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument("office hours \"" + std::string(text.substr(0, 32)) + "\" " +
                                   std::string(why));
  };
  OfficeHours hours;
  if (text.size() != 11 || text[5] != '-' || !ParseClock(text.substr(0, 5), &hours.open_minute) ||
      !ParseClock(text.substr(6, 5), &hours.close_minute)) {
    return invalid("are not of the form HH:MM-HH:MM (00:00 to 24:00)");
  }
  if (hours.open_minute >= kMinutesPerDay) return invalid("open at 24:00");
  if (hours.open_minute >= hours.close_minute) return invalid("do not open before they close");
  return hours;
}
std::string FormatOfficeHours(const OfficeHours& hours) {
  return MinuteOfDay(hours.open_minute) + "-" + MinuteOfDay(hours.close_minute);
}

}  // namespace ipn::oversight
