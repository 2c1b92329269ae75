// Tests of common/big_endian: exact byte layouts and round trips.
#include "common/big_endian.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace ipn {
namespace {

TEST(BigEndianTest, WritesMostSignificantByteFirst) {
  uint8_t b16[2];
  PutBigEndian16(0x0102, b16);
  EXPECT_EQ(b16[0], 0x01);
  EXPECT_EQ(b16[1], 0x02);

  uint8_t b32[4];
  PutBigEndian32(0x01020304u, b32);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(b32), 4), std::string("\x01\x02\x03\x04", 4));

  char b64[8];
  PutBigEndian64(0x0102030405060708ull, b64);
  EXPECT_EQ(std::string(b64, 8), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST(BigEndianTest, ReadsExactValues) {
  const uint8_t bytes[8] = {0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x88};
  EXPECT_EQ(GetBigEndian16(bytes), 0xFFEE);
  EXPECT_EQ(GetBigEndian32(bytes), 0xFFEEDDCCu);
  EXPECT_EQ(GetBigEndian64(bytes), 0xFFEEDDCCBBAA9988ull);
}

TEST(BigEndianTest, RoundTrips) {
  for (uint64_t v :
       {uint64_t{0}, uint64_t{1}, uint64_t{0xFF}, uint64_t{0x100}, uint64_t{0x8000000000000000ull},
        uint64_t{0xFFFFFFFFFFFFFFFFull}, uint64_t{0x0123456789ABCDEFull}}) {
    char buf[8];
    PutBigEndian64(v, buf);
    EXPECT_EQ(GetBigEndian64(buf), v);
    const auto v32 = static_cast<uint32_t>(v);
    PutBigEndian32(v32, buf);
    EXPECT_EQ(GetBigEndian32(buf), v32);
    const auto v16 = static_cast<uint16_t>(v);
    PutBigEndian16(v16, buf);
    EXPECT_EQ(GetBigEndian16(buf), v16);
  }
}

TEST(BigEndianTest, ByteOrderIsNumericOrder) {
  char a[8], b[8];
  PutBigEndian64(255, a);
  PutBigEndian64(256, b);
  EXPECT_LT(std::string(a, 8), std::string(b, 8));
}

TEST(BigEndianTest, Appends) {
  std::string out = "x";
  AppendBigEndian32(0x01020304u, out);
  AppendBigEndian64(0x05060708090A0B0Cull, out);
  EXPECT_EQ(out, std::string("x\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C", 13));
}

}  // namespace
}  // namespace ipn
