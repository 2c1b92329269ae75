// The symbol constructions on their own: determinism, tamper evidence (every bit of a
// symbol), cross-agency rejection, and uniqueness over 100,000 random persons.
#include "symbol/derivation.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <unordered_set>

#include "common/secret.h"
#include "tests/symbol/test_codes.h"

namespace ipn::symbol {
namespace {

LinkageSymbol Linkage(const SecretBytes& key, const std::string& text) {
  auto code = ResidentCode::Parse(text);
  EXPECT_TRUE(code.ok());
  LinkageSymbol linkage;
  DeriveLinkageSymbol(key.span(), *code, &linkage);
  return linkage;
}

std::string AsString(const AgencySymbol& s) {
  return std::string(reinterpret_cast<const char*>(s.bytes.data()), s.bytes.size());
}

class SymbolDerivationTest : public ::testing::Test {
 protected:
  SecretBytes linkage_key_ = SecretBytes::Random(kKeySize);
  SecretBytes record_key_ = SecretBytes::Random(kKeySize);
  SecretBytes key_a_ = SecretBytes::Random(kAgencyKeySize);
  SecretBytes key_b_ = SecretBytes::Random(kAgencyKeySize);
};

TEST_F(SymbolDerivationTest, SameInputsGiveSameSymbols) {
  LinkageSymbol l1 = Linkage(linkage_key_, "49428595750");
  LinkageSymbol l2 = Linkage(linkage_key_, "49428595750");
  EXPECT_TRUE(l1.Equals(l2));
  EXPECT_EQ(SealAgencySymbol(key_a_.span(), 1, "MUN-131016", l1),
            SealAgencySymbol(key_a_.span(), 1, "MUN-131016", l2));
  EXPECT_EQ(DeriveRecordSymbol(record_key_.span(), l1), DeriveRecordSymbol(record_key_.span(), l2));

  LinkageSymbol other = Linkage(linkage_key_, "27957422883");
  EXPECT_FALSE(l1.Equals(other));
  EXPECT_NE(DeriveRecordSymbol(record_key_.span(), l1),
            DeriveRecordSymbol(record_key_.span(), other));
  // Another linkage key (another core) gives another linkage symbol for the same code.
  SecretBytes other_key = SecretBytes::Random(kKeySize);
  EXPECT_FALSE(l1.Equals(Linkage(other_key, "49428595750")));
}

TEST_F(SymbolDerivationTest, SealedSymbolOpensToTheSamePersonAndCarriesItsVersion) {
  LinkageSymbol linkage = Linkage(linkage_key_, "23015956917");
  AgencySymbol symbol = SealAgencySymbol(key_a_.span(), 513, "PEN-0001", linkage);
  EXPECT_EQ(symbol.key_version(), 513);
  EXPECT_EQ(symbol.bytes[0], 2);
  EXPECT_EQ(symbol.bytes[1], 1);
  LinkageSymbol opened;
  ASSERT_TRUE(OpenAgencySymbol(key_a_.span(), "PEN-0001", symbol, &opened));
  EXPECT_TRUE(opened.Equals(linkage));
  // The symbol is not the linkage symbol in clear, nor the record symbol.
  std::string bytes = AsString(symbol);
  EXPECT_EQ(bytes.find(std::string(reinterpret_cast<const char*>(linkage.data()), 32)),
            std::string::npos);
}

TEST_F(SymbolDerivationTest, EverySingleBitFlipIsRejected) {
  LinkageSymbol linkage = Linkage(linkage_key_, "49428595750");
  AgencySymbol symbol = SealAgencySymbol(key_a_.span(), 1, "MUN-131016", linkage);
  int rejected = 0;
  for (size_t bit = 0; bit < AgencySymbol::kSize * 8; ++bit) {
    AgencySymbol flipped = symbol;
    flipped.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    LinkageSymbol opened;
    bool ok = OpenAgencySymbol(key_a_.span(), "MUN-131016", flipped, &opened);
    EXPECT_FALSE(ok) << "bit " << bit;
    if (!ok) ++rejected;
    LinkageSymbol zero;
    EXPECT_TRUE(opened.Equals(zero)) << "a rejected open must not leave a person behind";
  }
  EXPECT_EQ(rejected, 400);
}

TEST_F(SymbolDerivationTest, AnotherAgencysSymbolIsRejected) {
  LinkageSymbol linkage = Linkage(linkage_key_, "27957422883");
  AgencySymbol at_a = SealAgencySymbol(key_a_.span(), 1, "MUN-131016", linkage);
  LinkageSymbol opened;
  // Presented at B (B's keys, B's code).
  EXPECT_FALSE(OpenAgencySymbol(key_b_.span(), "PEN-0001", at_a, &opened));
  // A's keys but presented as B's: the agency code is bound into the tag.
  EXPECT_FALSE(OpenAgencySymbol(key_a_.span(), "PEN-0001", at_a, &opened));
  // B's keys under A's name.
  EXPECT_FALSE(OpenAgencySymbol(key_b_.span(), "MUN-131016", at_a, &opened));
  EXPECT_TRUE(OpenAgencySymbol(key_a_.span(), "MUN-131016", at_a, &opened));
}

TEST_F(SymbolDerivationTest, HundredThousandPersonsGiveDistinctSymbolsPerAndAcrossAgencies) {
  const size_t kPersons = 100000;
  const auto codes = testing::DistinctResidentCodes(kPersons, 7);
  SecretBytes key_c = SecretBytes::Random(kAgencyKeySize);
  const std::pair<const SecretBytes*, const char*> agencies[] = {
      {&key_a_, "MUN-131016"}, {&key_b_, "PEN-0001"}, {&key_c, "INS-0001"}};
  std::unordered_set<std::string> all;
  all.reserve(kPersons * 3);
  std::unordered_set<std::string> linkages;
  linkages.reserve(kPersons);
  for (const auto& [key, code] : agencies) {
    std::unordered_set<std::string> per_agency;
    per_agency.reserve(kPersons);
    for (const auto& text : codes) {
      LinkageSymbol linkage = Linkage(linkage_key_, text);
      if (key == &key_a_) linkages.emplace(reinterpret_cast<const char*>(linkage.data()), 32);
      std::string s = AsString(SealAgencySymbol(key->span(), 1, code, linkage));
      per_agency.insert(s);
      all.insert(std::move(s));
    }
    EXPECT_EQ(per_agency.size(), kPersons) << code;
  }
  EXPECT_EQ(linkages.size(), kPersons);
  EXPECT_EQ(all.size(), kPersons * 3) << "some symbol is equal across agencies";
}

TEST(SymbolPrintableTest, IsEightyCrockfordCharactersAndRoundTrips) {
  SecretBytes key = SecretBytes::Random(kAgencyKeySize);
  SecretBytes linkage_key = SecretBytes::Random(kKeySize);
  AgencySymbol symbol =
      SealAgencySymbol(key.span(), 7, "PEN-0001", Linkage(linkage_key, "49428595750"));
  std::string printable = symbol.ToPrintable();
  ASSERT_EQ(printable.size(), AgencySymbol::kPrintableSize);
  for (char c : printable) {
    EXPECT_NE(std::string("0123456789ABCDEFGHJKMNPQRSTVWXYZ").find(c), std::string::npos) << c;
  }
  auto back = AgencySymbol::FromPrintable(printable);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, symbol);
  std::string lower = printable;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto from_lower = AgencySymbol::FromPrintable(lower);
  ASSERT_TRUE(from_lower.ok());
  EXPECT_EQ(*from_lower, symbol);
  auto binary = AgencySymbol::FromBinary(symbol.bytes);
  ASSERT_TRUE(binary.ok());
  EXPECT_EQ(*binary, symbol);
}

TEST(SymbolPrintableTest, RejectsWrongLengthsAlphabetAndVersionZero) {
  std::string good(80, '1');  // version bytes 0x08 0x42: a well-formed symbol
  EXPECT_TRUE(AgencySymbol::FromPrintable(good).ok());
  for (std::string bad : {std::string(79, '1'), std::string(81, '1'), std::string()}) {
    auto parsed = AgencySymbol::FromPrintable(bad);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.status().message().find("80 characters"), std::string::npos);
  }
  for (char c : {'I', 'L', 'O', 'U', '-', '=', ' '}) {
    std::string bad = good;
    bad[40] = c;
    auto parsed = AgencySymbol::FromPrintable(bad);
    ASSERT_FALSE(parsed.ok()) << c;
    EXPECT_NE(parsed.status().message().find("alphabet"), std::string::npos);
  }
  std::string version_zero(80, '0');
  EXPECT_FALSE(AgencySymbol::FromPrintable(version_zero).ok());
  std::array<uint8_t, 49> short_binary{};
  EXPECT_FALSE(AgencySymbol::FromBinary(short_binary).ok());
}

}  // namespace
}  // namespace ipn::symbol
