// End-to-end tests of who may read the provision records, with real processes: only the
// oversight commission's key pulls, gets heads and statistics; only the disclosure
// portal reads a person's history, by its own symbol for them; every refusal, every pull
// and every operator action (start, policy load, agency status change) is itself a
// tamper-evident record that the commission pulls and verifies.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "oversight/pull_verifier.h"
#include "oversight/pulled_set.h"
#include "records/record.h"
#include "tests/e2e/e2e_fixture.h"

namespace ipn::testing {
namespace {

constexpr const char* kReg = "REG-0001";
constexpr const char* kMun = "MUN-131016";
constexpr const char* kPen = "PEN-0001";
constexpr const char* kPpc = "PPC-0001";
constexpr const char* kPortal = "PORTAL-0001";
constexpr auto kTimeout = std::chrono::seconds(10);

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

v1::RecordQuery Range() {
  v1::RecordQuery q;
  q.set_from_unix_us(NowUs() - 3'600'000'000LL);
  q.set_to_unix_us(NowUs() + 3'600'000'000LL);
  q.set_page_size(50);
  return q;
}

// Every page of a commission pull, gathered as `ipn oversight pull` does.
oversight::PulledSet PullAll(interface::AgencyClient& commission) {
  v1::RecordQuery q = Range();
  oversight::PulledSet set;
  set.from_unix_us = q.from_unix_us();
  set.to_unix_us = q.to_unix_us();
  for (int pages = 0; pages < 1000; ++pages) {
    Result<v1::RecordPage> page = commission.QueryRecords(q, kTimeout);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;
    EXPECT_TRUE(oversight::AddPage(*page, &set).ok());
    if (page->next_page_token().empty()) break;
    q.set_page_token(page->next_page_token());
  }
  return set;
}

bool HasAudit(const std::vector<records::Record>& all, const std::string& actor,
              const std::string& action, const std::string& outcome_prefix,
              const std::string& agency = "") {
  for (const records::Record& r : all) {
    if (r.event == records::Event::kOperatorAction && r.inquirer == actor && r.business == action &&
        r.outcome.rfind(outcome_prefix, 0) == 0 && (agency.empty() || r.provider == agency) &&
        r.record_symbol == records::kAuditRecordSymbol) {
      return true;
    }
  }
  return false;
}

TEST(RecordAccessE2eTest, OnlyTheCommissionPullsOnlyThePortalReadsAPersonAndAllIsAudited) {
  E2eNetwork n({kReg, kMun, kPen, kPpc, kPortal});
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string code = ResidentCodeFrom("2468013579");
  n.IssueSymbol(kMun, code, "p1");
  std::vector<uint8_t> at_pen = n.IssueSymbol(kPen, code, "p1");
  std::vector<uint8_t> at_portal = n.IssueSymbol(kPortal, code, "citizen-1");
  interface::InquiryReply reply = n.Inquire(kPen, at_pen, "np-benefit", kMun, "local-tax", "q-1");
  ASSERT_EQ(reply.outcome, n.ExpectedOutcome(kMun, "p1", "local-tax")) << reply.explanation;

  // An ordinary agency: no pull, no head, no statistics, no person's history.
  interface::AgencyClient& mun = n.Client(kMun);
  Result<v1::RecordPage> pull = mun.QueryRecords(Range(), kTimeout);
  EXPECT_EQ(pull.status().code(), Status::Code::kPermissionDenied) << pull.status().ToString();
  EXPECT_NE(pull.status().message().find("commission"), std::string::npos);
  EXPECT_EQ(mun.RequestTreeHead(0, 0, kTimeout).status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(mun.QueryStats(0, NowUs(), kTimeout).status().code(), Status::Code::kPermissionDenied);
  v1::RecordQuery by_person;
  by_person.set_person_symbol(std::string(at_pen.begin(), at_pen.end()));
  EXPECT_EQ(n.Client(kPen).QueryRecords(by_person, kTimeout).status().code(),
            Status::Code::kPermissionDenied);

  // The portal reads the person's history by its own symbol; nothing else of the log.
  v1::RecordQuery mine;
  mine.set_person_symbol(std::string(at_portal.begin(), at_portal.end()));
  mine.set_with_proofs(true);
  Result<v1::RecordPage> history = n.Client(kPortal).QueryRecords(mine, kTimeout);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_GE(history->records_size(), 3);
  for (const v1::ProvisionRecordView& r : history->records()) {
    EXPECT_EQ(r.request_id(), "q-1");
    EXPECT_NE(r.event(), "operator_action");
  }
  EXPECT_EQ(n.Client(kPortal).QueryRecords(Range(), kTimeout).status().code(),
            Status::Code::kPermissionDenied);
  // Another agency's symbol presented by the portal opens nothing.
  v1::RecordQuery foreign;
  foreign.set_person_symbol(std::string(at_pen.begin(), at_pen.end()));
  EXPECT_FALSE(n.Client(kPortal).QueryRecords(foreign, kTimeout).ok());

  // Fields that could not be recorded (a control character, an over-long code) are
  // refused as malformed — and the core keeps serving.
  const double aggregates_before = n.CoreMetric("ipn_core_refusal_aggregates_total");
  interface::InquiryRequest bad;
  bad.request_id = "q-bad\nline";
  bad.symbol = at_pen;
  bad.business = std::string(200, 'b');
  bad.provider = kMun;
  bad.item = "local-tax";
  Result<interface::InquiryReply> refused = n.Client(kPen).Inquire(bad, kTimeout);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_NE(refused->outcome, v1::OUTCOME_PROVIDED);
  v1::RecordQuery long_filter = Range();
  long_filter.set_agency_code(std::string(100, 'A'));
  EXPECT_EQ(n.Client(kPpc).QueryRecords(long_filter, kTimeout).status().code(),
            Status::Code::kInvalidArgument);
  interface::InquiryReply again = n.Inquire(kPen, at_pen, "np-benefit", kMun, "local-tax", "q-2");
  EXPECT_EQ(again.outcome, n.ExpectedOutcome(kMun, "p1", "local-tax")) << again.explanation;

  // The administrator suspends an agency: a policy load the core records.
  policy::AgencyOverride suspend;
  suspend.status = policy::AgencyStatus::kSuspended;
  ASSERT_TRUE(n.net().ChangePolicy({{"MUN-401307", suspend}}).ok());
  ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_policy_version", 2, std::chrono::seconds(10)))
      << "the core did not load policy version 2";

  // The two malformed messages' aggregate records (the pension service's and the
  // commission's) are written at the end of their interval.
  ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_refusal_aggregates_total", aggregates_before + 2,
                                  std::chrono::seconds(5)));
  // The commission pulls everything, including the audit records, and it verifies.
  interface::AgencyClient& ppc = n.Client(kPpc);
  Result<v1::StatsReport> stats = ppc.QueryStats(0, NowUs() + 1'000'000, kTimeout);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_GT(stats->rows_size(), 0);
  oversight::PulledSet set = PullAll(ppc);
  oversight::PullVerifyReport report = oversight::VerifyPulledSet(set, std::nullopt);
  EXPECT_TRUE(report.ok()) << (report.findings.empty() ? "" : report.findings[0].detail);
  std::vector<records::Record> pulled;
  for (const auto& r : set.records) pulled.push_back(r.record);
  EXPECT_TRUE(HasAudit(pulled, "operator", "core_start", "ok"));
  // The malformed message is on record in its agency's aggregate of refusals.
  EXPECT_TRUE(std::any_of(pulled.begin(), pulled.end(), [](const records::Record& r) {
    return r.event == records::Event::kInquiryRefused && r.inquirer == kPen &&
           r.outcome.rfind("MALFORMED count=1 ", 0) == 0;
  }));
  EXPECT_TRUE(HasAudit(pulled, kMun, "records_pull", "refused"));
  EXPECT_TRUE(HasAudit(pulled, kPen, "person_history", "refused"));
  EXPECT_TRUE(HasAudit(pulled, "operator", "policy_load", "ok"));
  EXPECT_TRUE(HasAudit(pulled, "operator", "agency_status_change", "ok", "MUN-401307"));
  // A later head proves the pulled log was only appended to since.
  Result<v1::TreeHeadResponse> later = ppc.RequestTreeHead(set.head.tree_size, 0, kTimeout);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  oversight::PulledSet extended;
  Result<records::SignedTreeHead> head = oversight::FromView(later->head());
  ASSERT_TRUE(head.ok());
  extended.head = *head;
  extended.previous_head = set.head;
  for (const std::string& h : later->consistency_path()) {
    records::Hash hash{};
    std::copy(h.begin(), h.end(), hash.begin());
    extended.consistency_path.push_back(hash);
  }
  EXPECT_TRUE(oversight::VerifyPulledSet(extended, set.head.signer).ok());

  // After the run, the log holds those audit records and the pulls and stats reads too.
  std::vector<records::Record> all = n.StopAndReadRecords();
  EXPECT_TRUE(HasAudit(all, kPpc, "records_pull", "ok"));
  EXPECT_TRUE(HasAudit(all, kPpc, "stats_read", "ok"));
  EXPECT_TRUE(HasAudit(all, kMun, "tree_head", "refused"));
  EXPECT_TRUE(HasAudit(all, kMun, "stats", "refused"));
  EXPECT_TRUE(HasAudit(all, kPortal, "records_pull", "refused"));
}

}  // namespace
}  // namespace ipn::testing
