// The agency directory: the demo directory's defaults, the optional columns, overrides, and
// lookups by code and by CurveZMQ key.
#include <gtest/gtest.h>
#include <sodium.h>
#include <zmq.h>

#include "common/encoding.h"
#include "tests/policy/policy_test_util.h"

namespace ipn::policy {
namespace {

using testing::Contains;
using testing::DemoWith;

const char kAgencyHeader[] =
    "code,class,name_ja,name_en,hours,status,pia_approved,curve_public_key,endpoint,"
    "rate_per_second,burst\n";

std::array<uint8_t, 32> RandomKey() {
  std::array<uint8_t, 32> key;
  randombytes_buf(key.data(), key.size());
  return key;
}

// The demo source with agencies.csv replaced and no links (they would name missing classes).
PolicySource WithAgencies(const std::string& agencies) {
  PolicySource source = DemoWith("agencies.csv", agencies);
  source.files["links.csv"] = "inquirer,business,provider,item,effective_from\n";
  return source;
}

std::string AgenciesError(const std::string& agencies) {
  auto bundle = CompilePolicy(WithAgencies(agencies), 1);
  return bundle.ok() ? "" : bundle.status().message();
}

TEST(DirectoryTest, DemoDirectoryIsActiveApprovedAndGenerous) {
  auto policy = testing::DemoPolicy();
  ASSERT_TRUE(policy);
  ASSERT_EQ(policy->agencies().size(), 14u);
  for (const Agency& a : policy->agencies()) {
    EXPECT_EQ(a.status, AgencyStatus::kActive) << a.code;
    EXPECT_TRUE(a.pia_approved) << a.code;
    EXPECT_EQ(a.rate_per_second, 1000) << a.code;
    EXPECT_EQ(a.burst, 5000) << a.code;
    EXPECT_FALSE(a.curve_public_key.has_value()) << a.code;
  }
  const Agency* chiyoda = policy->FindAgency("MUN-131016");
  ASSERT_NE(chiyoda, nullptr);
  EXPECT_EQ(chiyoda->agency_class, "municipality");
  EXPECT_EQ(chiyoda->name_ja, "千代田区長");
  EXPECT_EQ(chiyoda->name_en, "Mayor of Chiyoda City");
  EXPECT_EQ(chiyoda->hours, "08:30-17:15");
  EXPECT_EQ(policy->FindAgency("MUN-000000"), nullptr);
  EXPECT_EQ(policy->FindAgency(""), nullptr);
  ASSERT_NE(policy->FindBusiness("child-allowance"), nullptr);
  EXPECT_EQ(policy->FindBusiness("child-allowance")->name_en, "Child allowance payment");
  ASSERT_NE(policy->FindItem("pension"), nullptr);
  EXPECT_EQ(policy->FindItem("pension")->name_ja, "年金給付関係情報");
}

TEST(DirectoryTest, OptionalColumnsIncludingHexAndZ85Keys) {
  const std::array<uint8_t, 32> hex_key = RandomKey();
  const std::array<uint8_t, 32> z85_key = RandomKey();
  char z85[41];
  ASSERT_NE(zmq_z85_encode(z85, z85_key.data(), z85_key.size()), nullptr);
  std::string z85_text(z85);
  // Z85's alphabet has no comma, quote or space, so a key needs no CSV quoting.
  const std::string agencies =
      std::string(kAgencyHeader) +
      "PEN-0001,pension-service,日本年金機構,Japan Pension Service,08:30-17:15,active,yes," +
      HexEncode(hex_key) + ",tcp://127.0.0.1:7001,50,80\n" +
      "MUN-131016,municipality,千代田区長,Mayor of Chiyoda City,,suspended,no," + z85_text +
      ",tcp://127.0.0.1:7002,,\n" +
      "MUN-271004,municipality,大阪市長,Mayor of Osaka City,,retired,yes,,,2.5,\n";
  auto policy = testing::LoadPolicy(WithAgencies(agencies));
  ASSERT_TRUE(policy);
  ASSERT_EQ(policy->agencies().size(), 3u);
  const Agency* pen = policy->FindAgency("PEN-0001");
  ASSERT_NE(pen, nullptr);
  EXPECT_EQ(pen->status, AgencyStatus::kActive);
  EXPECT_TRUE(pen->pia_approved);
  EXPECT_EQ(pen->curve_public_key, hex_key);
  EXPECT_EQ(pen->endpoint, "tcp://127.0.0.1:7001");
  EXPECT_EQ(pen->rate_per_second, 50);
  EXPECT_EQ(pen->burst, 80);
  const Agency* chiyoda = policy->FindAgency("MUN-131016");
  ASSERT_NE(chiyoda, nullptr);
  EXPECT_EQ(chiyoda->status, AgencyStatus::kSuspended);
  EXPECT_FALSE(chiyoda->pia_approved);
  EXPECT_EQ(chiyoda->curve_public_key, z85_key);
  EXPECT_EQ(chiyoda->rate_per_second, 1000);  // empty cells take the defaults
  const Agency* osaka = policy->FindAgency("MUN-271004");
  ASSERT_NE(osaka, nullptr);
  EXPECT_EQ(osaka->status, AgencyStatus::kRetired);
  EXPECT_EQ(osaka->rate_per_second, 2.5);
  EXPECT_EQ(osaka->burst, 12.5);  // five seconds' worth

  EXPECT_EQ(policy->FindAgencyByKey(hex_key), pen);
  EXPECT_EQ(policy->FindAgencyByKey(z85_key), chiyoda);
  EXPECT_EQ(policy->FindAgencyByKey(RandomKey()), nullptr);
  EXPECT_EQ(policy->FindAgencyByKey(std::span<const uint8_t>(hex_key).first(31)), nullptr);
}

TEST(DirectoryTest, BadAgencyRowsAreRefusedWithTheirLine) {
  const std::string good =
      "PEN-0001,pension-service,日本年金機構,Japan Pension Service,,active,yes,,,,\n";
  struct Case {
    std::string row;
    std::string expected;
  } cases[] = {
      {"X-1,municipality,x,x,,paused,yes,,,,\n",
       "agencies.csv line 3: status must be active, suspended or retired, got 'paused'"},
      {"X-1,municipality,x,x,,active,,,,,\n",
       "agencies.csv line 3: pia_approved: expected yes or no, got ''"},
      {"X-1,municipality,x,x,,active,yes,abcd,,,\n",
       "agencies.csv line 3: curve_public_key must be 64 hex digits or 40 Z85 characters"},
      {"X-1,municipality,x,x,,active,yes," + std::string(64, 'z') + ",,,\n",
       "agencies.csv line 3: curve_public_key is not valid hex"},
      {"X-1,municipality,x,x,,active,yes," + std::string(64, '0') + ",,,\n",
       "agencies.csv line 3: curve_public_key is all zeros"},
      {"X-1,municipality,x,x,,active,yes,,,0,\n",
       "agencies.csv line 3: rate_per_second must be a positive number, got '0'"},
      {"X-1,municipality,x,x,,active,yes,,,fast,\n",
       "agencies.csv line 3: rate_per_second must be a positive number, got 'fast'"},
      {"X-1,municipality,x,x,,active,yes,,,10,0.5\n",
       "agencies.csv line 3: burst must be at least 1"},
      {",municipality,x,x,,active,yes,,,,\n", "agencies.csv line 3: code is empty"},
      {"PEN-0001,municipality,x,x,,active,yes,,,,\n", "agency 'PEN-0001': listed twice"},
      {"X 1,municipality,x,x,,active,yes,,,,\n", "agency 'X 1': invalid agency code"},
      {"X-1,PEN-0001,x,x,,active,yes,,,,\n",
       "class 'PEN-0001' is also an agency code; classes and codes must differ"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(AgenciesError(std::string(kAgencyHeader) + good + c.row), c.expected) << c.row;
  }
  EXPECT_EQ(AgenciesError("code,class,name_ja,name_en,stauts\n"),
            "agencies.csv: unknown column 'stauts'");
  EXPECT_EQ(AgenciesError("code,name_ja,name_en\n"), "agencies.csv: missing column 'class'");
}

TEST(DirectoryTest, TwoAgenciesMayNotShareAKey) {
  const std::string key = HexEncode(RandomKey());
  const std::string message =
      AgenciesError(std::string(kAgencyHeader) + "PEN-0001,pension-service,a,a,,active,yes," + key +
                    ",,,\n" + "MUN-131016,municipality,b,b,,active,yes," + key + ",,,\n");
  EXPECT_EQ(message, "agency 'MUN-131016': curve_public_key already used by another agency");
}

TEST(DirectoryTest, OverridesChangeOneAgency) {
  const std::array<uint8_t, 32> key = RandomKey();
  AgencyOverride o;
  o.curve_public_key = key;
  o.endpoint = "tcp://127.0.0.1:7100";
  o.status = AgencyStatus::kSuspended;
  o.pia_approved = false;
  o.rate_per_second = 3;
  o.burst = 4;
  auto policy = testing::DemoPolicy({{"MUN-131016", o}});
  ASSERT_TRUE(policy);
  const Agency* a = policy->FindAgency("MUN-131016");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->curve_public_key, key);
  EXPECT_EQ(a->endpoint, "tcp://127.0.0.1:7100");
  EXPECT_EQ(a->status, AgencyStatus::kSuspended);
  EXPECT_FALSE(a->pia_approved);
  EXPECT_EQ(a->rate_per_second, 3);
  EXPECT_EQ(a->burst, 4);
  EXPECT_EQ(policy->FindAgencyByKey(key), a);
  const Agency* other = policy->FindAgency("MUN-271004");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->status, AgencyStatus::kActive);

  AdminKeyPair admin = GenerateAdminKeyPair();
  auto unknown = BuildDemoBundle({{"NOPE-1", AgencyOverride{}}}, 1, admin.secret_key.span());
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(Contains(unknown.status().message(), "override names unknown agency 'NOPE-1'"));
  AgencyOverride bad_rate;
  bad_rate.rate_per_second = -1;
  EXPECT_FALSE(BuildDemoBundle({{"PEN-0001", bad_rate}}, 1, admin.secret_key.span()).ok());
}

}  // namespace
}  // namespace ipn::policy
