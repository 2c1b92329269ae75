// The policy compiler: CSV source to a validated bundle, with errors that name file and line.
#include "policy/compiler.h"

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "ipn/v1/policy.pb.h"
#include "tests/policy/policy_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::policy {
namespace {

using testing::Contains;
using testing::DemoWith;

const char kLinksHeader[] = "inquirer,business,provider,item,effective_from,effective_to,note\n";

// Compiles the demo source with links.csv replaced; returns the error message ("" if none).
std::string CompileLinksError(const std::string& links) {
  auto bundle = CompilePolicy(DemoWith("links.csv", links), 1);
  return bundle.ok() ? "" : bundle.status().message();
}

TEST(PolicyCompilerTest, CompilesTheDemoSourceDeterministically) {
  auto a = CompilePolicy(DemoPolicySource(), 7);
  auto b = CompilePolicy(DemoPolicySource(), 7);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  auto c = CompilePolicy(DemoPolicySource(), 8);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*a, *c);

  ipn::v1::SignedPolicyBundle file;
  ASSERT_TRUE(file.ParseFromArray(a->data(), static_cast<int>(a->size())));
  EXPECT_EQ(file.format(), "ipn-policy-bundle/1");
  EXPECT_TRUE(file.signature().empty());
  ipn::v1::PolicyBundle bundle;
  ASSERT_TRUE(bundle.ParseFromString(file.bundle()));
  EXPECT_EQ(bundle.version(), 7u);
  EXPECT_EQ(bundle.agencies_size(), 14);
  EXPECT_EQ(bundle.businesses_size(), 14);
  EXPECT_EQ(bundle.items_size(), 10);
  EXPECT_EQ(bundle.links_size(), 34);
  EXPECT_EQ(bundle.source_digest().size(), 32u);
}

TEST(PolicyCompilerTest, SourceDigestFollowsTheSource) {
  PolicySource changed = DemoPolicySource();
  changed.files["links.csv"] += "labour,employment-insurance,municipality,local-tax,2020-01-01,,\n";
  auto a = testing::LoadPolicy(DemoPolicySource());
  auto b = testing::LoadPolicy(changed);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->source_digest(), b->source_digest());
  EXPECT_EQ(b->links().size(), 35u);
}

TEST(PolicyCompilerTest, ReadsASourceDirectory) {
  ipn::testing::TempDir dir;
  for (const auto& [name, contents] : DemoPolicySource().files) {
    ASSERT_TRUE(WriteFileAtomic(dir.Sub(name), contents).ok());
  }
  auto source = ReadPolicySource(dir.path());
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ(source->files, DemoPolicySource().files);
  ASSERT_EQ(std::remove(dir.Sub("items.csv").c_str()), 0);
  auto missing = ReadPolicySource(dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Contains(missing.status().message(), "items.csv"));
}

TEST(PolicyCompilerTest, RefusesVersionZeroAndMissingFiles) {
  EXPECT_FALSE(CompilePolicy(DemoPolicySource(), 0).ok());
  PolicySource source = DemoPolicySource();
  source.files.erase("businesses.csv");
  auto bundle = CompilePolicy(source, 1);
  ASSERT_FALSE(bundle.ok());
  EXPECT_EQ(bundle.status().message(), "policy source lacks businesses.csv");
}

TEST(PolicyCompilerTest, LinkErrorsNameTheLine) {
  const std::string ok_row = "municipality,nhi-benefit,municipality,local-tax,2017-11-13,,\n";
  struct Case {
    std::string bad_row;
    std::string expected;
  } cases[] = {
      {"municipality,no-such-business,municipality,local-tax,2017-11-13,,\n",
       "unknown business 'no-such-business'"},
      {"municipality,nhi-benefit,municipality,no-such-item,2017-11-13,,\n",
       "unknown item 'no-such-item'"},
      {"MUN-999999,nhi-benefit,municipality,local-tax,2017-11-13,,\n",
       "inquirer 'MUN-999999' is neither a known agency nor a known class"},
      {"municipality,nhi-benefit,city-hall,local-tax,2017-11-13,,\n",
       "provider 'city-hall' is neither a known agency nor a known class"},
      {"registry,nhi-benefit,municipality,local-tax,2017-11-13,,\n",
       "inquirer class 'registry' is not a party to links"},
      {"municipality,nhi-benefit,PORTAL-0001,local-tax,2017-11-13,,\n",
       "provider 'PORTAL-0001' is of class portal, which is not a party to links"},
      {"municipality,nhi-benefit,commission,local-tax,2017-11-13,,\n",
       "provider class 'commission' is not a party to links"},
      {"municipality,nhi-benefit,municipality,local-tax,2023-02-29,,\n", "is not a calendar date"},
      {"municipality,nhi-benefit,municipality,local-tax,2020-01-02,2020-01-01,\n",
       "effective_to is before effective_from"},
  };
  for (const Case& c : cases) {
    // Header line 1, a comment on line 2, a good row on line 3, the bad row on line 4.
    const std::string message =
        CompileLinksError(std::string(kLinksHeader) + "# comment\n" + ok_row + c.bad_row);
    EXPECT_TRUE(Contains(message, "links.csv line 4 (links row 2: ")) << message;
    EXPECT_TRUE(Contains(message, c.expected)) << message;
  }
}

TEST(PolicyCompilerTest, LinkColumnsAreChecked) {
  EXPECT_EQ(CompileLinksError("inquirer,business,provider,item,efective_from\n"),
            "links.csv: unknown column 'efective_from'");
  EXPECT_EQ(CompileLinksError("inquirer,business,provider,item,effective_to\n"),
            "links.csv: missing column 'effective_from'");
  EXPECT_EQ(CompileLinksError(std::string(kLinksHeader) +
                              "municipality,nhi-benefit,municipality,local-tax,,,\n"),
            "links.csv line 2: effective_from is empty");
}

TEST(PolicyCompilerTest, LegalBasisAndNoteAreCarriedToTheDecision) {
  auto policy = testing::LoadPolicy(DemoWith(
      "links.csv",
      "inquirer,business,provider,item,effective_from,effective_to,legal_basis,note\n"
      "municipality,nhi-benefit,municipality,local-tax,2017-11-13,,\"My Number Act, Appended "
      "Table 2, row 30\",demo\n"));
  ASSERT_TRUE(policy);
  ASSERT_EQ(policy->links().size(), 1u);
  EXPECT_EQ(policy->links()[0].note, "demo");
  Decision d = policy->Check("MUN-131016", "nhi-benefit", "MUN-271004", "local-tax",
                             testing::JstNoon("2025-04-01"));
  ASSERT_TRUE(d.allowed) << d.Explain();
  EXPECT_TRUE(Contains(d.Explain(), "legal basis: My Number Act, Appended Table 2, row 30"))
      << d.Explain();
}

}  // namespace
}  // namespace ipn::policy
