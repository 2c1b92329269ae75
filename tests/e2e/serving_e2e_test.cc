// Serving by item (issue #14, "answer by hand"): two serving systems of one provider on
// its real node — one that named the items it answers by hand (Hello.items), and the
// general one (the middle-server platform). Real core and node processes on loopback;
// both serving systems are SDK clients in this process.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "interface/served_inquiries.h"
#include "tests/e2e/e2e_fixture.h"

namespace ipn::testing {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr const char* kReg = "REG-0001";
constexpr const char* kMun = "MUN-131016";
constexpr const char* kPen = "PEN-0001";

// Answers every forwarded inquiry as `name`, noting the items it was asked.
interface::AgencyClient::Callbacks Answering(const std::string& name,
                                             std::vector<std::string>* asked) {
  interface::AgencyClient::Callbacks cb;
  cb.on_inquiry = [name, asked](const v1::ForwardedInquiry& f) {
    asked->push_back(f.item_code());
    v1::AgencyAnswer a;
    a.set_outcome(v1::OUTCOME_PROVIDED);
    a.set_payload(name + ": " + f.item_code());
    return a;
  };
  return cb;
}

TEST(ServingE2eTest, AnItemNamedByASystemGoesToItAndTheRestToTheGeneralOne) {
  // Chiyoda has its node but no demo agency program: its serving systems are these.
  E2eNetwork n({kReg, kMun, kPen}, {}, "", 2.0, {}, [](localnet::LocalNetworkOptions& o) {
    for (localnet::AgencySpec& a : o.agencies) {
      if (a.code == kMun) a.start_agency_program = false;
    }
  });
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string code = ResidentCodeFrom("1414213562");
  n.IssueSymbol(kMun, code, "r-1");
  const std::vector<uint8_t> at_pen = n.IssueSymbol(kPen, code, "r-1");
  ASSERT_FALSE(at_pen.empty());

  const std::string endpoint = n.net().LocalEndpoint(kMun);
  auto by_hand = interface::AgencyClient::Connect(
      endpoint, {.serve = true, .items = {"local-tax"}, .timeout = seconds(5)});
  ASSERT_TRUE(by_hand.ok()) << by_hand.status().ToString();
  auto platform = interface::AgencyClient::Connect(endpoint, /*serve=*/true);
  ASSERT_TRUE(platform.ok()) << platform.status().ToString();

  // Past the limits, the node refuses the Hello and says why.
  std::vector<std::string> too_many(interface::kMaxServedItems + 1, "local-tax");
  auto refused = interface::AgencyClient::Connect(endpoint, {.serve = true, .items = too_many});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("refused Hello"), std::string::npos)
      << refused.status().ToString();
  auto too_long = interface::AgencyClient::Connect(
      endpoint, {.serve = true, .items = {std::string(interface::kMaxServedItemBytes + 1, 'x')}});
  EXPECT_EQ(too_long.status().code(), Status::Code::kInvalidArgument);

  // np-benefit permits both local-tax and resident-record at the municipality.
  const std::map<std::string, std::string> items = {
      {"tax-1", "local-tax"}, {"record-1", "resident-record"}, {"tax-2", "local-tax"}};
  for (const auto& [id, item] : items) {
    interface::InquiryRequest r;
    r.request_id = id;
    r.symbol = at_pen;
    r.business = "np-benefit";
    r.provider = kMun;
    r.item = item;
    ASSERT_TRUE(n.Client(kPen).Submit(std::move(r)).ok());
  }
  std::vector<std::string> asked_by_hand, asked_platform;
  const interface::AgencyClient::Callbacks hand_cb = Answering("by hand", &asked_by_hand);
  const interface::AgencyClient::Callbacks platform_cb = Answering("platform", &asked_platform);
  std::map<std::string, interface::InquiryReply> replies;
  interface::AgencyClient::Callbacks pen_cb;
  pen_cb.on_reply = [&](interface::InquiryReply r) { replies[r.request_id] = std::move(r); };
  const auto deadline = steady_clock::now() + seconds(20);
  while (replies.size() < items.size() && steady_clock::now() < deadline) {
    ASSERT_TRUE((*by_hand)->Poll(std::chrono::milliseconds(10), hand_cb).ok());
    ASSERT_TRUE((*platform)->Poll(std::chrono::milliseconds(10), platform_cb).ok());
    ASSERT_TRUE(n.Client(kPen).Poll(std::chrono::milliseconds(10), pen_cb).ok());
  }
  ASSERT_EQ(replies.size(), items.size()) << "not every inquiry ended in time";
  for (const auto& [id, item] : items) {
    const interface::InquiryReply& r = replies.at(id);
    EXPECT_EQ(r.outcome, v1::OUTCOME_PROVIDED) << id << ": " << r.explanation;
    EXPECT_EQ(r.payload, (item == "local-tax" ? "by hand: " : "platform: ") + item) << id;
  }
  EXPECT_EQ(asked_by_hand, (std::vector<std::string>{"local-tax", "local-tax"}));
  EXPECT_EQ(asked_platform, (std::vector<std::string>{"resident-record"}));
}

}  // namespace
}  // namespace ipn::testing
