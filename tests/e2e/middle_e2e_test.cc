// The middle-server platform on a live network (issue #14): the municipality runs no
// program of its own; `ipn-middle` holds its registered copies (imported from a CSV) and
// answers the pension service's inquiries from them: provided with the copy, not held
// without one, and a non-disclosure copy's flag in the provision records.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "common/file_util.h"
#include "tests/e2e/e2e_fixture.h"
#include "tools/localnet/child_process.h"

namespace ipn::testing {
namespace {

constexpr char kReg[] = "REG-0001";
constexpr char kMun[] = "MUN-131016";
constexpr char kPen[] = "PEN-0001";

TEST(MiddleE2eTest, TheMunicipalitysCopiesAnswerWithNoProgramOfItsOwn) {
  E2eNetwork n({kReg, kMun, kPen}, {}, "", 5.0, {}, [](localnet::LocalNetworkOptions& o) {
    for (localnet::AgencySpec& a : o.agencies) {
      if (a.code == kMun) a.start_agency_program = false;  // the platform answers instead
    }
  });
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string dir = n.dir() + "/middle";
  const std::string csv = n.dir() + "/copies.csv";
  ASSERT_TRUE(WriteFileAtomic(csv,
                              "person,item,content,as_of,non_disclosure\n"
                              "MUNP-1,local-tax,MIDDLE-COPY-ONE,2026-04-01,false\n"
                              "MUNP-2,local-tax,MIDDLE-COPY-TWO,2026-04-01,true\n")
                  .ok());
  const int imported = std::system((BinDir() + "/ipn-middle import --dir " + dir + " --tenant " +
                                    kMun + " --file " + csv + " >/dev/null 2>&1 </dev/null")
                                       .c_str());
  ASSERT_TRUE(WIFEXITED(imported) && WEXITSTATUS(imported) == 0);
  auto middle = localnet::ChildProcess::Start(
      {BinDir() + "/ipn-middle", "serve", "--dir", dir, "--tenant",
       std::string(kMun) + "=" + n.net().LocalEndpoint(kMun), "--log", dir + "/middle.log"},
      {}, dir + "/middle.stderr");
  ASSERT_TRUE(middle.ok()) << middle.status().ToString();
  ASSERT_TRUE(middle->WaitReady(std::chrono::seconds(20)).ok());

  // The registry issues the municipality its symbols with its internal person numbers as
  // the references; the platform binds them (in order on its connection, before any
  // inquiry the issuance makes possible).
  std::vector<std::vector<uint8_t>> at_pension;
  for (int i = 1; i <= 3; ++i) {
    const std::string code = ResidentCodeFrom("32345678" + std::to_string(10 + i));
    n.IssueSymbol(kMun, code, "MUNP-" + std::to_string(i));
    at_pension.push_back(n.IssueSymbol(kPen, code, "pen-" + std::to_string(i)));
  }
  auto one = n.Inquire(kPen, at_pension[0], "np-benefit", kMun, "local-tax", "mid-1");
  EXPECT_EQ(one.outcome, v1::OUTCOME_PROVIDED);
  EXPECT_EQ(one.payload, "MIDDLE-COPY-ONE");
  auto two = n.Inquire(kPen, at_pension[1], "np-benefit", kMun, "local-tax", "mid-2");
  EXPECT_EQ(two.outcome, v1::OUTCOME_PROVIDED);
  EXPECT_EQ(two.payload, "MIDDLE-COPY-TWO");
  auto three = n.Inquire(kPen, at_pension[2], "np-benefit", kMun, "local-tax", "mid-3");
  EXPECT_EQ(three.outcome, v1::OUTCOME_NOT_HELD);
  EXPECT_TRUE(three.payload.empty());

  EXPECT_EQ(middle->Stop(), 0);
  bool flagged = false, unflagged = false;
  for (const records::Record& r : n.StopAndReadRecords()) {
    if (r.event != records::Event::kProvided) continue;
    if (r.request_id == "mid-2") flagged = r.non_disclosure;
    if (r.request_id == "mid-1") unflagged = !r.non_disclosure;
  }
  EXPECT_TRUE(flagged) << "the non-disclosure copy's flag reached the records";
  EXPECT_TRUE(unflagged);
  // The copies' content is nowhere in the clear: not in the platform's files, the nodes'
  // or the core's (only inside the tenant's sealed values).
  for (const char* marker : {"MIDDLE-COPY-ONE", "MIDDLE-COPY-TWO", "MUNP-1"}) {
    EXPECT_TRUE(FilesContaining(n.dir(), marker).size() == 1 &&
                FilesContaining(n.dir(), marker)[0] == csv)
        << marker << " outside the import file";
  }
}

}  // namespace
}  // namespace ipn::testing
