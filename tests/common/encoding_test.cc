#include "common/encoding.h"

#include <gtest/gtest.h>
#include <sodium.h>

namespace ipn {
namespace {

TEST(EncodingTest, HexRoundTrip) {
  std::vector<uint8_t> bytes = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(HexEncode(bytes), "0001abff");
  auto back = HexDecode("0001ABff");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, bytes);
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(EncodingTest, Base32RoundTripsEveryLength) {
  for (size_t n = 0; n < 64; ++n) {
    std::vector<uint8_t> bytes(n);
    if (n > 0) randombytes_buf(bytes.data(), n);  // data() may be null when n == 0
    std::string text = Base32Encode(bytes);
    EXPECT_EQ(text.size(), (n * 8 + 4) / 5);
    auto back = Base32Decode(text);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, bytes);
  }
}

TEST(EncodingTest, Base32UsesNoAmbiguousLettersAndAcceptsLowerCase) {
  std::vector<uint8_t> bytes(500);
  randombytes_buf(bytes.data(), bytes.size());
  std::string text = Base32Encode(bytes);
  EXPECT_EQ(text.find_first_of("ILOU"), std::string::npos);
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  auto back = Base32Decode(lower);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, bytes);
}

TEST(EncodingTest, Base32RejectsForeignCharactersAndNonCanonicalEndings) {
  EXPECT_FALSE(Base32Decode("ABCI").ok());   // I is not in the alphabet
  EXPECT_FALSE(Base32Decode("AB-C").ok());
  EXPECT_FALSE(Base32Decode("01").ok());     // 10 bits: 2 trailing bits must be zero -> '01' has 1
  EXPECT_TRUE(Base32Decode("00").ok());
  EXPECT_FALSE(Base32Decode("000").ok());    // 15 bits cannot end a byte string
}

}  // namespace
}  // namespace ipn
