// A misbehaving agency, tried from outside with its own real keys (issue #12): a provider
// node that replays a sealed answer, oversized messages, and refusals that must leave a
// record. Real processes on loopback; the adversary speaks the wire protocol directly.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <zmq.hpp>

#include "common/connection_watch.h"
#include "common/curve_keys.h"
#include "common/envelope_io.h"
#include "common/file_util.h"
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
constexpr const char* kIns = "INS-0001";

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

// An agency's own key in an adversary's hands, talking to the core directly (its node is
// stopped, so the adversary is the agency as far as the core can tell).
class RawAgency {
 public:
  RawAgency(zmq::context_t& context, localnet::LocalNetwork& net, const std::string& agency)
      : socket_(context, zmq::socket_type::dealer) {
    Result<CurveKeyPair> keys =
        CurveKeyPair::LoadFile(net.data_dir() + "/nodes/" + agency + "/node.key");
    EXPECT_TRUE(keys.ok());
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::routing_id, agency);
    EXPECT_TRUE(ConfigureCurveClient(socket_, *keys, net.core_public_key()).ok());
    auto watch = ConnectionWatch::Start(context, socket_);
    EXPECT_TRUE(watch.ok());
    watch_ = std::move(*watch);
    socket_.connect(net.core_endpoint());
  }
  Status Send(const v1::Envelope& e) { return SendEnvelope(socket_, e); }
  std::optional<v1::Envelope> Next(seconds within) {
    const auto deadline = steady_clock::now() + within;
    while (steady_clock::now() < deadline) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (!PollSockets(&item, 1, milliseconds(50)).ok()) return std::nullopt;
      v1::Envelope e;
      Result<bool> got = ReceiveEnvelope(socket_, &e);
      if (got.ok() && *got) return e;
    }
    return std::nullopt;
  }
  // Waits until the core closes the connection (true) or the deadline passes (false).
  bool WaitDisconnected(seconds within) {
    const auto deadline = steady_clock::now() + within;
    while (steady_clock::now() < deadline) {
      zmq::pollitem_t item{watch_->handle(), 0, ZMQ_POLLIN, 0};
      if (!PollSockets(&item, 1, milliseconds(50)).ok()) return false;
      auto events = watch_->Take();
      if (!events.ok()) return false;
      for (auto ev : *events) {
        if (ev == ConnectionWatch::Event::kDisconnected) return true;
      }
    }
    return false;
  }

 private:
  zmq::socket_t socket_;
  std::unique_ptr<ConnectionWatch> watch_;
};

v1::Envelope HelloFrom(const std::string& agency, const std::string& endpoint,
                       const std::string& id) {
  v1::Envelope e;
  StampEnvelope(&e, id, 0);
  e.mutable_hello()->set_agency_code(agency);
  e.mutable_hello()->set_answer_endpoint(endpoint);
  return e;
}

// Oversized and forbidden messages from an authenticated agency are refused: the limits
// of common/limits.h with a clear answer, frames past the transport's limit by closing
// the connection; the refusals are on record, aggregated; nothing big reaches the log;
// and the network carries on.
TEST(AdversaryE2eTest, OversizedAndForbiddenMessagesAreRefusedAndRecorded) {
  E2eNetwork n({kReg, kMun, kPen, kIns});
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string code = ResidentCodeFrom("1618033988");
  n.IssueSymbol(kMun, code, "g-1");
  const std::vector<uint8_t> at_pen = n.IssueSymbol(kPen, code, "g-1");
  const v1::Outcome expected = n.ExpectedOutcome(kMun, "g-1", "local-tax");

  // 1. The SDK refuses a 10 MB inquiry itself, saying why.
  interface::InquiryRequest huge = LocalTax(at_pen, "huge");
  huge.parameters["note"] = std::string(10 << 20, 'x');
  Status sdk = n.Client(kPen).Submit(huge);
  EXPECT_EQ(sdk.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(sdk.message().find("the limit is 65536"), std::string::npos) << sdk.ToString();

  // 2. A system that bypasses the SDK: 100 KB is refused by the node with the limit; a
  //    10 MB frame closes its connection.
  zmq::context_t context(1);
  {
    zmq::socket_t raw(context, zmq::socket_type::dealer);
    raw.set(zmq::sockopt::linger, 0);
    raw.connect(n.net().LocalEndpoint(kPen));
    v1::Envelope big;
    StampEnvelope(&big, "big", 0);
    big.mutable_inquiry()->set_provider_code(kMun);
    (*big.mutable_inquiry()->mutable_parameters())["note"] = std::string(100 << 10, 'y');
    ASSERT_TRUE(SendEnvelope(raw, big).ok());
    zmq::pollitem_t item{raw.handle(), 0, ZMQ_POLLIN, 0};
    ASSERT_TRUE(PollSockets(&item, 1, milliseconds(5000)).ok());
    v1::Envelope reply;
    Result<bool> got = ReceiveEnvelope(raw, &reply);
    ASSERT_TRUE(got.ok() && *got) << "no answer from the node";
    EXPECT_EQ(reply.inquiry_result().outcome(), v1::OUTCOME_REFUSED);
    EXPECT_NE(reply.inquiry_result().explanation().find("the limit is 65536"), std::string::npos)
        << reply.inquiry_result().explanation();
    v1::Envelope ten_mb = big;
    (*ten_mb.mutable_inquiry()->mutable_parameters())["note"] = std::string(10 << 20, 'y');
    ASSERT_TRUE(SendEnvelope(raw, ten_mb).ok());
  }

  // 3. The insurer's key in an adversary's hands, straight at the core.
  n.net().KillNode(kIns);
  RawAgency adversary(context, n.net(), kIns);
  // A Hello naming another agency, and one with a 10 KB endpoint: refused, said why.
  ASSERT_TRUE(adversary.Send(HelloFrom(kMun, "tcp://127.0.0.1:1", "h-1")).ok());
  std::optional<v1::Envelope> r1 = adversary.Next(seconds(5));
  ASSERT_TRUE(r1.has_value() && r1->has_error());
  EXPECT_EQ(r1->error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  const std::string long_endpoint = "tcp://" + std::string(10 << 10, 'z') + ":1";
  ASSERT_TRUE(adversary.Send(HelloFrom(kIns, long_endpoint, "h-2")).ok());
  std::optional<v1::Envelope> r2 = adversary.Next(seconds(5));
  ASSERT_TRUE(r2.has_value() && r2->has_error());
  EXPECT_NE(r2->error().reason().find("the limit is 256"), std::string::npos)
      << r2->error().reason();
  // A resident code from an agency that is not the registry link.
  v1::Envelope issue;
  StampEnvelope(&issue, "i-1", 0);
  issue.mutable_issue_symbol_request()->set_agency_code(kIns);
  issue.mutable_issue_symbol_request()->set_sealed_resident_code(std::string(60, 's'));
  ASSERT_TRUE(adversary.Send(issue).ok());
  std::optional<v1::Envelope> r3 = adversary.Next(seconds(5));
  ASSERT_TRUE(r3.has_value() && r3->has_issue_symbol_response());
  EXPECT_EQ(r3->issue_symbol_response().error_code(), v1::ERROR_CODE_PERMISSION_DENIED);
  // An inquiry past the parameter limit.
  v1::Envelope many;
  StampEnvelope(&many, "p-1", 0);
  many.mutable_inquiry()->set_provider_code(kMun);
  for (int i = 0; i < 100; ++i) {
    (*many.mutable_inquiry()->mutable_parameters())["k" + std::to_string(i)] = "v";
  }
  ASSERT_TRUE(adversary.Send(many).ok());
  std::optional<v1::Envelope> r4 = adversary.Next(seconds(5));
  ASSERT_TRUE(r4.has_value() && r4->has_error());
  EXPECT_NE(r4->error().reason().find("the limit is 16"), std::string::npos)
      << r4->error().reason();
  // A 1 MB Hello: past the core's frame limit, the connection is closed.
  ASSERT_TRUE(
      adversary.Send(HelloFrom(kIns, "tcp://" + std::string(1 << 20, 'w') + ":1", "h-3")).ok());
  EXPECT_TRUE(adversary.WaitDisconnected(seconds(5))) << "the core kept a 1 MB frame";

  // The network carries on.
  auto after = n.Inquire(kPen, at_pen, "np-benefit", kMun, "local-tax", "after");
  EXPECT_EQ(after.outcome, expected) << after.explanation;

  const std::string log_path = n.net().CoreLogPath();
  const auto records = n.StopAndReadRecords();
  std::map<std::string, std::string> aggregate;  // reason -> outcome text
  for (const records::Record& r : records) {
    if (r.inquirer != kIns || r.event != records::Event::kInquiryRefused) continue;
    aggregate[r.outcome.substr(0, r.outcome.find(' '))] = r.outcome;
  }
  EXPECT_EQ(aggregate.count("HELLO_REFUSED"), 1u);
  EXPECT_EQ(aggregate["HELLO_REFUSED"].rfind("HELLO_REFUSED count=2 last=h-2 ", 0), 0u)
      << aggregate["HELLO_REFUSED"];
  EXPECT_EQ(aggregate["RESIDENT_CODE_REFUSED"].rfind("RESIDENT_CODE_REFUSED count=1 last=i-1 ", 0),
            0u);
  EXPECT_EQ(aggregate["MALFORMED"].rfind("MALFORMED count=1 last=p-1 ", 0), 0u);
  Result<std::string> log = ReadFile(log_path);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->find(std::string(256, 'z')), std::string::npos) << "a long endpoint was logged";
  EXPECT_EQ(log->find(std::string(256, 'w')), std::string::npos);
  EXPECT_LT(log->size(), 256u << 10);
}

// Strangers knocking with keys the core does not know: every handshake is refused, and
// the core's log grows by at most a line per interval however many knock.
TEST(AdversaryE2eTest, RefusedHandshakesDoNotGrowTheLog) {
  E2eNetwork n({kReg, kMun, kPen});
  ASSERT_FALSE(::testing::Test::HasFailure());
  // libzmq does not knock again after a refusal: strangers knock in batches of 30, and
  // the core's count of refused handshakes says when a batch has been refused.
  zmq::context_t context(1);
  constexpr int kBatch = 30, kBatches = 10;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<std::unique_ptr<zmq::socket_t>> strangers;
    for (int i = 0; i < kBatch; ++i) {
      auto s = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
      s->set(zmq::sockopt::linger, 0);
      ASSERT_TRUE(
          ConfigureCurveClient(*s, CurveKeyPair::Generate(), n.net().core_public_key()).ok());
      s->connect(n.net().core_endpoint());
      strangers.push_back(std::move(s));
    }
    ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_handshakes_refused", (b + 1) * kBatch, seconds(20)))
        << "batch " << b << ": " << n.CoreMetric("ipn_core_handshakes_refused") << " refused";
  }
  const std::string log_path = n.net().CoreLogPath();
  n.StopAndReadRecords();
  Result<std::string> log = ReadFile(log_path);
  ASSERT_TRUE(log.ok());
  size_t lines = 0;
  for (size_t at = log->find("connection_refused"); at != std::string::npos;
       at = log->find("connection_refused", at + 1)) {
    ++lines;
  }
  // One line at the first knock, then at most one per 10 s (the test runs for seconds).
  EXPECT_GE(lines, 1u);
  EXPECT_LE(lines, 3u) << *log;
}

}  // namespace
}  // namespace ipn::testing
