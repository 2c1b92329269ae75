// A misbehaving agency, tried from outside with its own real keys (issue #12): a provider
// node that replays a sealed answer, oversized messages, and refusals that must leave a
// record. Real processes on loopback; the adversary speaks the wire protocol directly.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <zmq.hpp>

#include "common/curve_keys.h"
#include "common/envelope_io.h"
#include "interface/answer_seal.h"
#include "records/record.h"
#include "tests/e2e/e2e_fixture.h"

namespace ipn::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr const char* kReg = "REG-0001";
constexpr const char* kMun = "MUN-131016";
constexpr const char* kPen = "PEN-0001";

std::vector<records::Event> EventsOf(const std::vector<records::Record>& all,
                                     const std::string& inquirer, const std::string& id) {
  std::vector<records::Event> out;
  for (const records::Record& r : all) {
    if (r.inquirer == inquirer && r.request_id == id) out.push_back(r.event);
  }
  return out;
}

// A serving system for an agency, speaking the local wire protocol by hand so that it can
// leave a forwarded inquiry unanswered.
class RawServer {
 public:
  RawServer(zmq::context_t& context, const std::string& endpoint)
      : socket_(context, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
    v1::Envelope hello;
    StampEnvelope(&hello, "raw-hello", 0);
    hello.mutable_hello()->set_serves_inquiries(true);
    EXPECT_TRUE(SendEnvelope(socket_, hello).ok());
    EXPECT_TRUE(Next(v1::Envelope::kWelcome, seconds(5)).has_value()) << "no local welcome";
  }
  // The next message of `kind`, or nullopt at the deadline.
  std::optional<v1::Envelope> Next(v1::Envelope::BodyCase kind, seconds within) {
    const auto deadline = steady_clock::now() + within;
    while (steady_clock::now() < deadline) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (!PollSockets(&item, 1, milliseconds(50)).ok()) return std::nullopt;
      v1::Envelope e;
      Result<bool> got = ReceiveEnvelope(socket_, &e);
      if (got.ok() && *got && e.body_case() == kind) return e;
    }
    return std::nullopt;
  }
  void Answer(const std::string& exchange_id, const std::string& payload) {
    v1::Envelope e;
    StampEnvelope(&e, exchange_id, 0);
    e.mutable_agency_answer()->set_outcome(v1::OUTCOME_PROVIDED);
    e.mutable_agency_answer()->set_payload(payload);
    EXPECT_TRUE(SendEnvelope(socket_, e).ok());
  }

 private:
  zmq::socket_t socket_;
};

// Waits for the reply to `id` on `client`; the outcome, or UNSPECIFIED at the deadline.
interface::InquiryReply ReplyTo(interface::AgencyClient& client, const std::string& id,
                                seconds within) {
  interface::InquiryReply mine;
  interface::AgencyClient::Callbacks cb;
  cb.on_reply = [&](interface::InquiryReply r) {
    if (r.request_id == id) mine = std::move(r);
  };
  EXPECT_TRUE(client
                  .PollUntil(
                      steady_clock::now() + within, cb,
                      [&] { return mine.outcome != v1::OUTCOME_UNSPECIFIED; }, "no reply to " + id)
                  .ok());
  return mine;
}

interface::InquiryRequest LocalTax(const std::vector<uint8_t>& symbol, const std::string& id) {
  interface::InquiryRequest r;
  r.request_id = id;
  r.symbol = symbol;
  r.business = "np-benefit";
  r.provider = kMun;
  r.item = "local-tax";
  return r;
}

// Chiyoda's node, in the adversary's hands, answers one inquiry honestly and then replays
// that sealed answer as the answer to the next: the pension service's node refuses it,
// and the second exchange ends as the core records it (timed out), not with last
// answer's content.
TEST(AdversaryE2eTest, AReplayedSealedAnswerIsRefusedAtTheInquirersNode) {
  E2eNetwork n({kReg, kMun, kPen});
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string code = ResidentCodeFrom("2718281828");
  n.IssueSymbol(kMun, code, "r-1");
  const std::vector<uint8_t> at_pen = n.IssueSymbol(kPen, code, "r-1");
  n.net().KillAgencyProgram(kMun);  // the adversary serves Chiyoda's inquiries itself
  zmq::context_t context(1);
  RawServer server(context, n.net().LocalEndpoint(kMun));

  // 1. An honest exchange: the adversary learns what a sealed answer for x1 looks like.
  ASSERT_TRUE(n.Client(kPen).Submit(LocalTax(at_pen, "first")).ok());
  std::optional<v1::Envelope> f1 = server.Next(v1::Envelope::kForwardedInquiry, seconds(5));
  ASSERT_TRUE(f1.has_value());
  const std::string x1 = f1->forwarded_inquiry().exchange_id();
  server.Answer(x1, "answer one");
  interface::InquiryReply first = ReplyTo(n.Client(kPen), "first", seconds(5));
  ASSERT_EQ(first.outcome, v1::OUTCOME_PROVIDED);
  ASSERT_EQ(first.payload, "answer one");

  // 2. The next inquiry: the adversary does not answer it, but replays answer one —
  //    sealed with Chiyoda's own node key, exactly as its node sealed it for x1.
  ASSERT_TRUE(n.Client(kPen).Submit(LocalTax(at_pen, "second")).ok());
  std::optional<v1::Envelope> f2 = server.Next(v1::Envelope::kForwardedInquiry, seconds(5));
  ASSERT_TRUE(f2.has_value());
  const v1::PeerNode& pen_node = f2->forwarded_inquiry().inquirer_node();
  Result<CurveKeyPair> mun_keys =
      CurveKeyPair::LoadFile(n.net().data_dir() + "/nodes/" + kMun + "/node.key");
  ASSERT_TRUE(mun_keys.ok());
  interface::PeerDirectory dir(&*mun_keys);
  ASSERT_TRUE(dir.Vouch(pen_node).ok());
  v1::Envelope replay;
  StampEnvelope(&replay, f2->forwarded_inquiry().exchange_id(), 0);
  ASSERT_TRUE(interface::SealAnswer(dir, {x1, kMun, kPen, v1::OUTCOME_PROVIDED, "answer one"},
                                    replay.mutable_answer())
                  .ok());
  replay.mutable_answer()->set_exchange_id(f2->forwarded_inquiry().exchange_id());
  zmq::socket_t rogue(context, zmq::socket_type::dealer);
  rogue.set(zmq::sockopt::linger, 0);
  ASSERT_TRUE(ConfigureCurveClient(
                  rogue, *mun_keys,
                  std::span<const uint8_t, 32>(
                      reinterpret_cast<const uint8_t*>(pen_node.curve_public_key().data()), 32))
                  .ok());
  rogue.connect(pen_node.answer_endpoint());
  ASSERT_TRUE(SendEnvelope(rogue, replay).ok());

  interface::InquiryReply second = ReplyTo(n.Client(kPen), "second", seconds(10));
  EXPECT_EQ(second.outcome, v1::OUTCOME_TIMED_OUT) << "the replayed answer was delivered";
  EXPECT_EQ(second.payload, "");

  const auto records = n.StopAndReadRecords();
  EXPECT_EQ(EventsOf(records, kPen, "second"),
            (std::vector<records::Event>{records::Event::kInquiryAccepted,
                                         records::Event::kForwarded, records::Event::kTimedOut}));
}

}  // namespace
}  // namespace ipn::testing
