// `ipn policy`: the real binary — explain's exit codes and words, and the administrator's
// keygen / compile / sign / verify round trip.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/file_util.h"
#include "policy/demo_policy.h"
#include "tests/support/temp_dir.h"

namespace ipn::policy {
namespace {

struct IpnRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

std::string Ipn() {
  const char* dir = std::getenv("IPN_BIN_DIR");
  return std::string(dir != nullptr ? dir : IPN_POLICY_TEST_BIN_DIR) + "/ipn";
}

IpnRun RunIpn(const std::string& args) {
  IpnRun run;
  const std::string command = Ipn() + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) run.output.append(buf, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

bool Has(const IpnRun& run, const std::string& words) {
  return run.output.find(words) != std::string::npos;
}

TEST(PolicyCliTest, ExplainAllowedExitsZeroAndCitesTheRow) {
  IpnRun run = RunIpn(
      "policy explain --inquirer MUN-131016 --business ltc-insurance --provider PEN-0001 "
      "--item pension --at 2025-04-01");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(Has(run, "yes, ALLOWED")) << run.output;
  EXPECT_TRUE(Has(run, "links.csv row 13")) << run.output;
  EXPECT_TRUE(Has(run, "inquirer \"municipality\" (a class; MUN-131016 belongs to it)"))
      << run.output;
  EXPECT_TRUE(Has(run, "effective 2017-11-13 to open-ended")) << run.output;
  EXPECT_TRUE(Has(run, "legal basis:")) << run.output;
  EXPECT_TRUE(Has(run, "千代田区長")) << run.output;
  EXPECT_TRUE(Has(run, "on 2025-04-01 (JST)")) << run.output;
}

TEST(PolicyCliTest, ExplainDeniedExitsOne) {
  IpnRun expired = RunIpn(
      "policy explain --inquirer MUN-131016 --business child-allowance --provider PEN-0001 "
      "--item pension --at 2024-05-27");
  EXPECT_EQ(expired.exit_code, 1) << expired.output;
  EXPECT_TRUE(Has(expired, "DENIED (OUTSIDE_EFFECTIVE_PERIOD)")) << expired.output;
  EXPECT_TRUE(Has(expired, "effective 2017-11-13 to 2024-05-26")) << expired.output;
  IpnRun same_row_last_day = RunIpn(
      "policy explain --inquirer MUN-131016 --business child-allowance --provider PEN-0001 "
      "--item pension --at 2024-05-26");
  EXPECT_EQ(same_row_last_day.exit_code, 0) << same_row_last_day.output;
  IpnRun no_link = RunIpn(
      "policy explain --inquirer PEN-0001 --business np-benefit --provider MUN-131016 "
      "--item pension");
  EXPECT_EQ(no_link.exit_code, 1) << no_link.output;
  EXPECT_TRUE(Has(no_link, "DENIED (NO_SUCH_LINK)")) << no_link.output;
}

TEST(PolicyCliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunIpn("policy explain --inquirer MUN-131016").exit_code, 2);
  IpnRun bad_day = RunIpn(
      "policy explain --inquirer MUN-131016 --business ltc-insurance --provider PEN-0001 "
      "--item pension --at 2025-02-30");
  EXPECT_EQ(bad_day.exit_code, 2) << bad_day.output;
  EXPECT_TRUE(Has(bad_day, "not a calendar date")) << bad_day.output;
  EXPECT_EQ(RunIpn("policy explain --inquirer A --business B --provider C --item D "
                   "--bundle x.bundle")
                .exit_code,
            2);
  EXPECT_EQ(RunIpn("policy compile --version 1").exit_code, 2);
  EXPECT_EQ(RunIpn("policy sign --bundle x").exit_code, 2);
  EXPECT_EQ(RunIpn("policy verify --bundle x").exit_code, 2);
}

TEST(PolicyCliTest, KeygenCompileSignVerifyAndExplainABundle) {
  ipn::testing::TempDir dir;
  const std::string key = dir.Sub("admin.key"), pub = dir.Sub("admin.pub");
  const std::string bundle = dir.Sub("policy.bundle");
  ASSERT_EQ(RunIpn("policy keygen --secret-key " + key + " --public-key " + pub).exit_code, 0);
  EXPECT_EQ(RunIpn("policy keygen --secret-key " + key + " --public-key " + dir.Sub("x")).exit_code,
            1);  // never overwrites a key

  // Compile from a source directory on disk (a copy of the demo data).
  const std::string source = dir.Sub("source");
  ASSERT_TRUE(EnsureDirectory(source).ok());
  for (const auto& [name, contents] : DemoPolicySource().files) {
    ASSERT_TRUE(WriteFileAtomic(source + "/" + name, contents).ok());
  }
  IpnRun compile = RunIpn("policy compile --source " + source + " --version 9 --output " + bundle);
  ASSERT_EQ(compile.exit_code, 0) << compile.output;

  IpnRun unsigned_verify = RunIpn("policy verify --bundle " + bundle + " --admin-key " + pub);
  EXPECT_EQ(unsigned_verify.exit_code, 1);
  EXPECT_TRUE(Has(unsigned_verify, "not signed")) << unsigned_verify.output;

  IpnRun sign = RunIpn("policy sign --bundle " + bundle + " --key " + key);
  ASSERT_EQ(sign.exit_code, 0) << sign.output;
  IpnRun verify = RunIpn("policy verify --bundle " + bundle + " --admin-key " + pub);
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_TRUE(Has(verify, "policy version 9")) << verify.output;
  EXPECT_TRUE(Has(verify, "34 permitted links")) << verify.output;

  IpnRun explain = RunIpn(
      "policy explain --inquirer MUN-131016 --business ltc-insurance "
      "--provider PEN-0001 --item pension --at 2025-04-01 --bundle " +
      bundle + " --admin-key " + pub);
  EXPECT_EQ(explain.exit_code, 0) << explain.output;
  EXPECT_TRUE(Has(explain, "version 9")) << explain.output;

  // Another administrator's key does not verify it.
  const std::string other = dir.Sub("other.pub");
  ASSERT_EQ(RunIpn("policy keygen --secret-key " + dir.Sub("other.key") + " --public-key " + other)
                .exit_code,
            0);
  IpnRun wrong = RunIpn("policy verify --bundle " + bundle + " --admin-key " + other);
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_TRUE(Has(wrong, "signature does not verify")) << wrong.output;
  EXPECT_EQ(RunIpn("policy explain --inquirer MUN-131016 --business ltc-insurance "
                   "--provider PEN-0001 --item pension --bundle " +
                   bundle + " --admin-key " + other)
                .exit_code,
            1);
}

TEST(PolicyCliTest, CompileReportsTheBadLine) {
  ipn::testing::TempDir dir;
  for (const auto& [name, contents] : DemoPolicySource().files) {
    ASSERT_TRUE(WriteFileAtomic(dir.Sub(name), contents).ok());
  }
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("links.csv"),
                              std::string("inquirer,business,provider,item,effective_from\n"
                                          "municipality,nhi-benefit,municipality,local-taks,"
                                          "2017-11-13\n"))
                  .ok());
  IpnRun run = RunIpn("policy compile --source " + dir.path() + " --version 1 --output " +
                      dir.Sub("out.bundle"));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(Has(run, "links.csv line 2")) << run.output;
  EXPECT_TRUE(Has(run, "unknown item 'local-taks'")) << run.output;
  EXPECT_TRUE(ipn::testing::FilesContaining(dir.path(), "ipn-policy-bundle").empty());
}

}  // namespace
}  // namespace ipn::policy
