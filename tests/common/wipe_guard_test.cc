// WipeOnExit: the guarded string's bytes are zero after the scope ends, on a normal
// return, an early return and an exception, for heap-allocated and inline (short) strings.
#include "common/wipe_guard.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace ipn {
namespace {

// Built at run time from parts, so that no constant in the binary holds the value.
std::string Digits(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('1' + i % 9));
  return s;
}

int Handle(std::string* secret, int way) {
  WipeOnExit wipe(secret);
  if (way == 0) return 0;  // early return
  if (way == 1) throw std::runtime_error("refused");
  return 2;
}

TEST(WipeOnExitTest, TheValueIsZeroAfterEveryWayOut) {
  for (size_t length : {size_t{11}, size_t{64}}) {  // inline and heap buffers
    for (int way : {0, 1, 2}) {
      std::string secret = Digits(length);
      const char* bytes = secret.data();
      try {
        (void)Handle(&secret, way);  // the outcome is not what is tested here
      } catch (const std::runtime_error&) {
        EXPECT_EQ(way, 1);
      }
      ASSERT_EQ(secret.size(), length);  // wiped in place, not cleared
      EXPECT_EQ(std::string(bytes, length), std::string(length, '\0'))
          << "length " << length << ", way " << way;
    }
  }
}

TEST(WipeOnExitTest, ANullOrEmptyStringIsLeftAlone) {
  { WipeOnExit none(nullptr); }
  std::string empty;
  { WipeOnExit wipe(&empty); }
  EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace ipn
