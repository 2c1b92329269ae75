#include "common/secret.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace ipn {
namespace {

TEST(SecretBytesTest, ZeroFilledAndMovable) {
  SecretBytes a(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_TRUE(std::all_of(a.data(), a.data() + 32, [](uint8_t b) { return b == 0; }));
  a.data()[0] = 9;
  SecretBytes b = std::move(a);
  EXPECT_EQ(b.size(), 32u);
  EXPECT_EQ(b.data()[0], 9);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(a.data(), nullptr);
}

TEST(SecretBytesTest, RandomDiffersAndCloneIsIndependent) {
  SecretBytes x = SecretBytes::Random(32), y = SecretBytes::Random(32);
  EXPECT_NE(std::memcmp(x.data(), y.data(), 32), 0);
  SecretBytes c = x.Clone();
  EXPECT_EQ(std::memcmp(x.data(), c.data(), 32), 0);
  c.data()[0] ^= 1;
  EXPECT_NE(std::memcmp(x.data(), c.data(), 32), 0);
}

TEST(SecretBytesTest, WipeZeroes) {
  uint8_t buf[16];
  std::memset(buf, 0xaa, sizeof(buf));
  Wipe(buf, sizeof(buf));
  EXPECT_TRUE(std::all_of(buf, buf + 16, [](uint8_t b) { return b == 0; }));
}

}  // namespace
}  // namespace ipn
