// InquiryBroker: every rule of the inquiry lifecycle at the core, on a fake env and a
// manual clock — the accept/refuse/not-held/unreachable table, duplicates, outcomes and
// receipts in either order, deadlines and late messages.
#include "core/inquiry_broker.h"

#include <gtest/gtest.h>

#include "ipn/v1/wire_names.h"
#include "tests/core/broker_fixture.h"

namespace ipn::core::testing {
namespace {

using records::Event;

class InquiryBrokerTest : public BrokerFixture {
 protected:
  // Asks, then checks it was refused with `reason` and recorded once as `event`.
  void ExpectRefused(const std::string& inquirer, const v1::Envelope& inquiry,
                     v1::DenyReason reason, Event event = Event::kInquiryRefused) {
    const size_t open_before = broker_->open_count();
    broker_->OnInquiry(inquirer, inquiry);
    ASSERT_EQ(env_.records.size(), 1u);
    EXPECT_EQ(env_.records[0].event, event);
    EXPECT_EQ(env_.records[0].outcome, v1::DenyReasonName(reason));
    EXPECT_EQ(env_.records[0].inquirer, inquirer);
    EXPECT_EQ(env_.records[0].request_id, inquiry.request_id());
    EXPECT_TRUE(env_.sent_now.empty()) << "a refused inquiry is never forwarded";
    ASSERT_EQ(env_.after_commit.size(), 1u);
    EXPECT_EQ(env_.after_commit[0].first, inquirer);
    const v1::InquiryDecision& d = env_.after_commit[0].second.inquiry_decision();
    EXPECT_FALSE(d.accepted());
    EXPECT_EQ(d.deny_reason(), reason);
    EXPECT_FALSE(d.explanation().empty());
    EXPECT_EQ(broker_->open_count(), open_before);
  }

  // Asks, then checks it was refused with `reason` before any symbol was opened: answered,
  // never forwarded, no record of its own, and counted once in the refusal ledger.
  void ExpectRefusedUnfiled(const std::string& inquirer, const v1::Envelope& inquiry,
                            v1::DenyReason reason) {
    broker_->OnInquiry(inquirer, inquiry);
    EXPECT_TRUE(env_.records.empty()) << "aggregated, not recorded one by one";
    EXPECT_TRUE(env_.sent_now.empty()) << "a refused inquiry is never forwarded";
    ASSERT_EQ(env_.after_commit.size(), 1u);
    const v1::InquiryDecision& d = env_.after_commit[0].second.inquiry_decision();
    EXPECT_FALSE(d.accepted());
    EXPECT_EQ(d.deny_reason(), reason);
    EXPECT_FALSE(d.explanation().empty());
    std::vector<RefusalTally> tallies = refusals_.TakeDue(env_.now_us, /*all=*/true);
    ASSERT_EQ(tallies.size(), 1u);
    EXPECT_EQ(tallies[0].agency, inquirer);
    EXPECT_EQ(tallies[0].reason, v1::DenyReasonName(reason));
    EXPECT_EQ(tallies[0].count, 1u);
    EXPECT_EQ(tallies[0].first_request_id, inquiry.request_id());
  }
};

TEST_F(InquiryBrokerTest, AcceptsALawfulInquiryRecordsItAndForwardsAtOnce) {
  AskLawful("r1");
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kInquiryAccepted, Event::kForwarded}));
  for (const records::Record& r : env_.records) {
    EXPECT_EQ(r.inquirer, kPension);
    EXPECT_EQ(r.provider, kChiyoda);
    EXPECT_EQ(r.business, "np-benefit");
    EXPECT_EQ(r.item, "local-tax");
    EXPECT_EQ(r.request_id, "r1");
    EXPECT_EQ(r.record_symbol, RecordSymbolOf(a_[kPension], kPension));
    EXPECT_EQ(r.time_unix_us, env_.now_us);
  }
  EXPECT_EQ(env_.records[0].outcome, "ACCEPTED");
  EXPECT_EQ(env_.records[1].outcome, "FORWARDED");
  EXPECT_EQ(broker_->open_count(), 1u);
  EXPECT_EQ(stats_->accepted.value(), 1u);
}

TEST_F(InquiryBrokerTest, TheForwardNamesTheExchangeNotTheInquirersRequestId) {
  AskLawful("r1");
  ASSERT_EQ(env_.sent_now.size(), 1u);
  EXPECT_EQ(env_.sent_now[0].first, kChiyoda);
  const v1::Envelope& fwd = env_.sent_now[0].second;
  EXPECT_EQ(fwd.request_id(), "x1");
  const v1::ForwardedInquiry& f = fwd.forwarded_inquiry();
  EXPECT_EQ(f.exchange_id(), "x1");
  EXPECT_EQ(f.inquirer_code(), kPension);
  EXPECT_EQ(f.business_code(), "np-benefit");
  EXPECT_EQ(f.item_code(), "local-tax");
  EXPECT_EQ(f.parameters().at("fiscal_year"), "2026");
  EXPECT_EQ(f.deadline_unix_us(), env_.now_us + kDeadlineUs);
  EXPECT_EQ(f.inquirer_node().agency_code(), kPension);
  EXPECT_EQ(f.inquirer_node().answer_endpoint(), "tcp://127.0.0.1:7001");
  EXPECT_EQ(f.inquirer_node().curve_public_key().size(), 32u);
  // The provider's symbol is Chiyoda's own symbol for person A.
  EXPECT_EQ(f.provider_symbol(), a_[kChiyoda]);
}

TEST_F(InquiryBrokerTest, TheAcceptedDecisionWaitsForTheCommitAndNamesTheProvidersNode) {
  AskLawful("r1");
  ASSERT_EQ(env_.after_commit.size(), 1u);
  EXPECT_EQ(env_.after_commit[0].first, kPension);
  const v1::Envelope& e = env_.after_commit[0].second;
  EXPECT_EQ(e.request_id(), "r1");
  EXPECT_TRUE(e.inquiry_decision().accepted());
  EXPECT_EQ(e.inquiry_decision().exchange_id(), "x1");
  EXPECT_EQ(e.inquiry_decision().provider_node().agency_code(), kChiyoda);
  EXPECT_EQ(e.inquiry_decision().provider_node().answer_endpoint(), "tcp://127.0.0.1:7002");
  EXPECT_NE(e.inquiry_decision().explanation().find("row"), std::string::npos)
      << e.inquiry_decision().explanation();
}

TEST_F(InquiryBrokerTest, RefusesAnInquiryOutsideThePermittedLinkListUnderThePerson) {
  ExpectRefused(kPension, Inquiry("r1", a_[kPension], "np-benefit", kInsurer, "medical-insurance"),
                v1::DENY_REASON_NO_SUCH_LINK);
  // Translate ran before the refusal was filed: it is filed under person A.
  EXPECT_EQ(env_.records[0].record_symbol, RecordSymbolOf(a_[kPension], kPension));
  EXPECT_EQ(stats_->refused.value(), 1u);
  EXPECT_EQ(stats_->by_reason[v1::DENY_REASON_NO_SUCH_LINK]->value(), 1u);
}

TEST_F(InquiryBrokerTest, RefusesAForgedSymbolUnderNoOne) {
  std::string forged = a_[kPension];
  forged[10] ^= 0x01;
  ExpectRefused(kPension, Inquiry("r1", forged, "np-benefit", kChiyoda, "local-tax"),
                v1::DENY_REASON_INVALID_SYMBOL);
  EXPECT_EQ(env_.records[0].record_symbol, (std::array<uint8_t, 32>{}));
}

TEST_F(InquiryBrokerTest, AnotherAgencysSymbolIsInvalid) {
  // Chiyoda's symbol for A presented by the pension service does not open under its key.
  ExpectRefused(kPension, Inquiry("r1", a_[kChiyoda], "np-benefit", kChiyoda, "local-tax"),
                v1::DENY_REASON_INVALID_SYMBOL);
}

TEST_F(InquiryBrokerTest, AProviderNeverIssuedThePersonIsNotHeldAtTheCore) {
  ExpectRefused(kPension, Inquiry("r1", b_[kPension], "np-benefit", kChiyoda, "local-tax"),
                v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER, Event::kNotHeld);
  EXPECT_EQ(env_.records[0].record_symbol, RecordSymbolOf(b_[kPension], kPension));
}

TEST_F(InquiryBrokerTest, RefusesAMalformedInquiryWithoutTranslatingOrRecordingItAlone) {
  ExpectRefusedUnfiled(kPension, Inquiry("r1", a_[kPension], "np-benefit", kChiyoda, ""),
                       v1::DENY_REASON_MALFORMED);
}

TEST_F(InquiryBrokerTest, AnInquiryWithoutARequestIdIsMalformed) {
  ExpectRefusedUnfiled(kPension, Inquiry("", a_[kPension], "np-benefit", kChiyoda, "local-tax"),
                       v1::DENY_REASON_MALFORMED);
  env_.Clear();
  // An empty request id is not remembered: the next one is malformed again, not a duplicate.
  ExpectRefusedUnfiled(kPension, Inquiry("", a_[kPension], "np-benefit", kChiyoda, "local-tax"),
                       v1::DENY_REASON_MALFORMED);
}

TEST_F(InquiryBrokerTest, AMalformedInquiryUsesNoRequestIdSoItCanComeAgainCorrected) {
  ExpectRefusedUnfiled(kPension, Inquiry("r1", a_[kPension], "np-benefit", kChiyoda, ""),
                       v1::DENY_REASON_MALFORMED);
  env_.Clear();
  AskLawful("r1");
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kInquiryAccepted, Event::kForwarded}));
}

TEST_F(InquiryBrokerTest, RefusesAnUnknownProvider) {
  ExpectRefused(kPension, Inquiry("r1", a_[kPension], "np-benefit", "MUN-999999", "local-tax"),
                v1::DENY_REASON_UNKNOWN_PROVIDER);
}

TEST_F(InquiryBrokerTest, RefusesASuspendedProvider) {
  nodes_.Connect(kLabour, "tcp://127.0.0.1:7999");
  ExpectRefused(kChiyoda,
                Inquiry("r1", a_[kChiyoda], "public-assistance", kLabour, "employment-insurance"),
                v1::DENY_REASON_PROVIDER_NOT_ACTIVE);
}

TEST_F(InquiryBrokerTest, RefusesALinkWhoseEffectivePeriodEnded) {
  ExpectRefused(kChiyoda, Inquiry("r1", a_[kChiyoda], "child-allowance", kPension, "pension"),
                v1::DENY_REASON_OUTSIDE_EFFECTIVE_PERIOD);
}

TEST_F(InquiryBrokerTest, RefusesAnUnknownItem) {
  ExpectRefused(kPension, Inquiry("r1", a_[kPension], "np-benefit", kChiyoda, "no-such-item"),
                v1::DENY_REASON_UNKNOWN_ITEM);
}

TEST_F(InquiryBrokerTest, RateLimitsAnInquirerPastItsBurst) {
  broker_->OnInquiry(kTokyo, Inquiry("t1", a_[kTokyo], "public-assistance", kChiyoda, "local-tax"));
  EXPECT_TRUE(env_.after_commit.at(0).second.inquiry_decision().accepted());
  env_.Clear();
  ExpectRefusedUnfiled(kTokyo,
                       Inquiry("t2", a_[kTokyo], "public-assistance", kChiyoda, "local-tax"),
                       v1::DENY_REASON_RATE_LIMITED);
  // When to retry, relative to the decision (the node's clock need not agree with the
  // core's): the bucket's one token is back a second after t1 (the limiter rounds up to
  // the next microsecond); no time has passed.
  const v1::InquiryDecision& refused = env_.after_commit.at(0).second.inquiry_decision();
  EXPECT_EQ(refused.retry_after_us(), 1'000'001);
  EXPECT_EQ(refused.retry_after_unix_us(), env_.now_us + 1'000'001);
  env_.Clear();
  env_.now_us += 1'000'000;  // one token back after a second
  broker_->OnInquiry(kTokyo, Inquiry("t3", a_[kTokyo], "public-assistance", kChiyoda, "local-tax"));
  EXPECT_TRUE(env_.after_commit.at(0).second.inquiry_decision().accepted());
}

TEST_F(InquiryBrokerTest, AFloodIsHeldToTheRateBeforeAnythingIsParsedOrRecorded) {
  // Tokyo may ask once a second (burst 1). It floods for a second with inquiries that
  // would be refused for other reasons too (no such link, a forged symbol, malformed):
  // all but the first are refused as rate-limited, none recorded alone, the first
  // recorded as what it is.
  for (int i = 0; i < 1000; ++i) {
    v1::Envelope q = i % 3 == 0   ? Inquiry("t" + std::to_string(i), a_[kTokyo], "np-benefit",
                                            kInsurer, "medical-insurance")  // no such link
                     : i % 3 == 1 ? Inquiry("t" + std::to_string(i), "forged", "public-assistance",
                                            kChiyoda, "local-tax")
                                  : Inquiry("t" + std::to_string(i), a_[kTokyo], "", kChiyoda, "");
    broker_->OnInquiry(kTokyo, q);
    env_.now_us += 999;  // 1,000 in 0.999 s: the bucket never refills
  }
  ASSERT_EQ(env_.records.size(), 1u) << "only the inquiry within the rate is recorded";
  EXPECT_EQ(env_.records[0].request_id, "t0");
  EXPECT_EQ(env_.records[0].outcome, "NO_SUCH_LINK");
  EXPECT_EQ(env_.after_commit.size(), 1000u) << "every inquiry is answered";
  std::vector<RefusalTally> tallies = refusals_.TakeDue(env_.now_us, /*all=*/true);
  ASSERT_EQ(tallies.size(), 1u);
  EXPECT_EQ(tallies[0].reason, "RATE_LIMITED");
  EXPECT_EQ(tallies[0].count, 999u);
  EXPECT_EQ(tallies[0].first_request_id, "t1");
  EXPECT_EQ(tallies[0].last_request_id, "t999");
  EXPECT_EQ(stats_->by_reason[v1::DENY_REASON_RATE_LIMITED]->value(), 999u);
}

TEST_F(InquiryBrokerTest, ARateLimitedRequestIdIsNotUsedUp) {
  broker_->OnInquiry(kTokyo, Inquiry("t1", a_[kTokyo], "public-assistance", kChiyoda, "local-tax"));
  env_.Clear();
  ExpectRefusedUnfiled(kTokyo,
                       Inquiry("t2", a_[kTokyo], "public-assistance", kChiyoda, "local-tax"),
                       v1::DENY_REASON_RATE_LIMITED);
  env_.Clear();
  env_.now_us += 1'000'000;
  broker_->OnInquiry(kTokyo, Inquiry("t2", a_[kTokyo], "public-assistance", kChiyoda, "local-tax"));
  EXPECT_TRUE(env_.after_commit.at(0).second.inquiry_decision().accepted()) << "retried, same id";
}

TEST_F(InquiryBrokerTest, AProviderWithoutANodeIsUnreachableAtOnceAndRecorded) {
  nodes_.Disconnect(kChiyoda);
  AskLawful("r1");
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kInquiryAccepted, Event::kTimedOut}));
  EXPECT_EQ(env_.records[1].outcome, "UNREACHABLE");
  EXPECT_TRUE(env_.sent_now.empty());
  ASSERT_EQ(env_.after_commit.size(), 1u);
  const v1::InquiryResult& r = env_.after_commit[0].second.inquiry_result();
  EXPECT_EQ(r.outcome(), v1::OUTCOME_UNREACHABLE);
  EXPECT_EQ(r.provider_code(), kChiyoda);
  EXPECT_EQ(r.exchange_id(), "x1");
  EXPECT_FALSE(env_.after_commit[0].second.has_inquiry_decision());
  EXPECT_EQ(broker_->open_count(), 0u);
  EXPECT_EQ(stats_->by_outcome[v1::OUTCOME_UNREACHABLE]->value(), 1u);
}

// Just after a takeover the nodes are still saying Hello to the new leader: an inquiry to a
// provider whose node has not yet waits for it, then goes on as any other.
TEST_F(InquiryBrokerTest, AfterATakeoverAnInquiryWaitsForItsProvidersHello) {
  const std::string endpoint = *nodes_.AnswerEndpoint(kChiyoda);
  nodes_.Disconnect(kChiyoda);
  broker_->AwaitNodesUntil(env_.now_us + 3'000'000);
  AskLawful("r1");
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kInquiryAccepted}));
  EXPECT_TRUE(env_.after_commit.empty()) << "no decision yet";
  EXPECT_EQ(broker_->NextDeadline(), env_.now_us + 3'000'000);
  broker_->OnNodeConnected(kInsurer);  // another node: nothing happens
  EXPECT_TRUE(env_.sent_now.empty());
  env_.now_us += 500'000;
  nodes_.Connect(kChiyoda, endpoint);
  broker_->OnNodeConnected(kChiyoda);
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kInquiryAccepted, Event::kForwarded}));
  ASSERT_EQ(env_.sent_now.size(), 1u);
  EXPECT_EQ(env_.sent_now[0].first, kChiyoda);
  EXPECT_EQ(env_.sent_now[0].second.forwarded_inquiry().provider_symbol(), a_[kChiyoda]);
  ASSERT_EQ(env_.after_commit.size(), 1u);
  EXPECT_TRUE(env_.after_commit[0].second.inquiry_decision().accepted());
  EXPECT_EQ(broker_->open_count(), 1u);
}

TEST_F(InquiryBrokerTest, AProviderThatNeverSaysHelloAfterATakeoverIsUnreachable) {
  nodes_.Disconnect(kChiyoda);
  broker_->AwaitNodesUntil(env_.now_us + 3'000'000);
  AskLawful("r1");
  env_.now_us += 2'999'999;
  broker_->ExpireDeadlines();
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kInquiryAccepted}));
  env_.now_us += 1;
  broker_->ExpireDeadlines();
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kInquiryAccepted, Event::kTimedOut}));
  EXPECT_EQ(env_.records[1].outcome, "UNREACHABLE");
  EXPECT_EQ(env_.after_commit.at(0).second.inquiry_result().outcome(), v1::OUTCOME_UNREACHABLE);
  EXPECT_EQ(broker_->open_count(), 0u);
  EXPECT_FALSE(broker_->NextDeadline().has_value());
}

TEST_F(InquiryBrokerTest, AForwardToAVanishedNodeIsUnreachable) {
  env_.unreachable.insert(kChiyoda);  // connected as far as the core knew, but gone
  AskLawful("r1");
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kInquiryAccepted, Event::kTimedOut}));
  EXPECT_EQ(env_.after_commit.at(0).second.inquiry_result().outcome(), v1::OUTCOME_UNREACHABLE);
  EXPECT_EQ(broker_->open_count(), 0u);
  EXPECT_FALSE(broker_->NextDeadline().has_value());
}

TEST_F(InquiryBrokerTest, AnInquirerWithoutANodeCannotBeAnswered) {
  nodes_.Disconnect(kPension);  // the answer would have nowhere to go
  AskLawful("r1");
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kInquiryAccepted, Event::kTimedOut}));
}

// A node sends an inquiry again when its session with the core changes (a failover) before
// the decision reached it: while the exchange is open, the same decision is said again.
TEST_F(InquiryBrokerTest, ARepeatedRequestIdOfAnOpenExchangeGetsItsDecisionAgainAndRecordsNothing) {
  AskLawful("r1");
  env_.Clear();
  AskLawful("r1");
  EXPECT_TRUE(env_.records.empty());
  EXPECT_TRUE(env_.sent_now.empty()) << "not forwarded twice";
  ASSERT_EQ(env_.after_commit.size(), 1u);
  EXPECT_EQ(env_.after_commit[0].first, kPension);
  const v1::InquiryDecision& d = env_.after_commit[0].second.inquiry_decision();
  EXPECT_TRUE(d.accepted());
  EXPECT_EQ(d.exchange_id(), "x1");
  EXPECT_EQ(d.provider_node().agency_code(), kChiyoda);
  EXPECT_EQ(d.provider_node().curve_public_key().size(), 32u);
  EXPECT_EQ(broker_->open_count(), 1u);
  EXPECT_EQ(stats_->decided_again.value(), 1u);
  EXPECT_EQ(stats_->duplicates.value(), 0u);
}

// A new leader resumes the exchanges the log shows open: the same ids, the original
// deadlines, and the outcome on record. What the nodes send again then ends each one as it
// would have ended: no exchange is closed as interrupted, nothing is recorded twice.
TEST_F(InquiryBrokerTest, AResumedExchangeEndsAsItWouldHaveAtTheFormerLeader) {
  const int64_t accepted = env_.now_us;
  AskLawful("r1");  // open, no outcome yet
  AskLawful("r2");
  broker_->OnOutcome(kChiyoda, Outcome("x2", v1::OUTCOME_PROVIDED));  // r2: outcome, no receipt
  std::vector<OpenExchange> open(2);
  open[0].opening = env_.records[0];  // r1's accepted record
  open[1].opening = env_.records[2];  // r2's accepted record
  ASSERT_EQ(open[0].opening.event, Event::kInquiryAccepted);
  ASSERT_EQ(open[1].opening.request_id, "r2");
  open[1].outcome = Event::kProvided;
  env_.MakeDurable();
  RestartBroker();  // the new leader: nothing in memory
  env_.Clear();
  env_.now_us += 1'000'000;  // the failover took a second
  EXPECT_EQ(broker_->Resume(open), 2u);
  EXPECT_EQ(broker_->Resume(open), 0u) << "never twice";
  EXPECT_EQ(broker_->open_count(), 2u);
  EXPECT_TRUE(env_.records.empty()) << "resuming records nothing";
  EXPECT_EQ(broker_->NextDeadline(), accepted + kDeadlineUs) << "r1 keeps its deadline";

  // r1's inquiry, sent again (its decision was lost with the old leader): decided again.
  AskLawful("r1");
  ASSERT_EQ(env_.after_commit.size(), 1u);
  EXPECT_TRUE(env_.after_commit[0].second.inquiry_decision().accepted());
  EXPECT_EQ(env_.after_commit[0].second.inquiry_decision().exchange_id(), "x1");
  // The provider's outcome for r1 and the receipts, sent again, are recorded once each;
  // r2's outcome sent again is already on record and ignored.
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_PROVIDED));
  broker_->OnOutcome(kChiyoda, Outcome("x2", v1::OUTCOME_PROVIDED));
  broker_->OnReceipt(kPension, Receipt("r1", "x1"));
  broker_->OnReceipt(kPension, Receipt("r2", "x2"));
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kProvided, Event::kReceived, Event::kReceived}));
  EXPECT_EQ(env_.records[0].request_id, "r1");
  EXPECT_EQ(env_.records[2].request_id, "r2");
  EXPECT_EQ(env_.records[2].outcome, "PROVIDED");
  EXPECT_EQ(broker_->open_count(), 0u);
  EXPECT_EQ(stats_->unexpected_outcomes.value(), 1u);
  // Closed now: the request id is a duplicate again.
  env_.Clear();
  AskLawful("r1");
  EXPECT_EQ(env_.after_commit.at(0).second.inquiry_decision().deny_reason(),
            v1::DENY_REASON_DUPLICATE_REQUEST);
}

TEST_F(InquiryBrokerTest, AResumedExchangePastItsDeadlineTimesOutAtOnce) {
  AskLawful("r1");
  std::vector<OpenExchange> open(1);
  open[0].opening = env_.records[0];
  RestartBroker();
  env_.Clear();
  env_.now_us += kDeadlineUs + 1;  // the lease outlived the provider's deadline
  ASSERT_EQ(broker_->Resume(open), 1u);
  broker_->ExpireDeadlines();
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kTimedOut}));
  EXPECT_EQ(env_.records[0].outcome, "TIMED_OUT");
  ASSERT_EQ(env_.after_commit.size(), 1u);
  EXPECT_EQ(env_.after_commit[0].first, kPension) << "the inquirer hears the end";
  EXPECT_EQ(env_.after_commit[0].second.inquiry_result().exchange_id(), "x1");
  EXPECT_EQ(broker_->open_count(), 0u);
}

TEST_F(InquiryBrokerTest, ARepeatedRequestIdOfARefusedInquiryIsADuplicate) {
  broker_->OnInquiry(kPension,
                     Inquiry("r1", a_[kPension], "np-benefit", kInsurer, "medical-insurance"));
  env_.Clear();
  AskLawful("r1");  // lawful this time, but the id was used
  EXPECT_TRUE(env_.records.empty());
  EXPECT_EQ(env_.after_commit.at(0).second.inquiry_decision().deny_reason(),
            v1::DENY_REASON_DUPLICATE_REQUEST);
}

TEST_F(InquiryBrokerTest, RequestIdsAreScopedByInquirer) {
  AskLawful("same");
  env_.Clear();
  broker_->OnInquiry(
      kInsurer, Inquiry("same", a_[kInsurer], "health-insurance-benefit", kChiyoda, "local-tax"));
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kInquiryAccepted, Event::kForwarded}));
  EXPECT_EQ(broker_->open_count(), 2u);
}

TEST_F(InquiryBrokerTest, AClosedRequestIdStaysADuplicateForTheWindowAfterItsClose) {
  AskLawful("r1");
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_PROVIDED));
  env_.now_us += 3'000'000;
  broker_->OnReceipt(kPension, Receipt("r1", "x1"));
  ASSERT_EQ(broker_->open_count(), 0u);
  env_.now_us += kRememberUs;  // exactly the window after the close: still remembered
  broker_->Forget();
  env_.Clear();
  AskLawful("r1");
  EXPECT_TRUE(env_.records.empty());
  env_.now_us += 1;
  broker_->Forget();
  env_.Clear();
  AskLawful("r1");
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kInquiryAccepted, Event::kForwarded}));
}

TEST_F(InquiryBrokerTest, ARequestIdStaysUsedPastTheWindowOnceItsRecordsAreDurable) {
  AskLawful("r1");
  env_.MakeDurable();
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_PROVIDED));
  broker_->OnReceipt(kPension, Receipt("r1", "x1"));
  env_.now_us += kRememberUs + 1;
  broker_->Forget();  // the broker's memory of r1 is gone; the store's is not
  env_.Clear();
  AskLawful("r1");
  EXPECT_TRUE(env_.records.empty()) << "a duplicate is answered, not recorded again";
  ASSERT_EQ(env_.after_commit.size(), 1u);
  EXPECT_EQ(env_.after_commit[0].second.inquiry_decision().deny_reason(),
            v1::DENY_REASON_DUPLICATE_REQUEST);
  EXPECT_TRUE(env_.sent_now.empty());
  EXPECT_EQ(stats_->duplicates.value(), 1u);
}

TEST_F(InquiryBrokerTest, ARestartedBrokerFindsUsedRequestIdsInTheStore) {
  broker_->OnInquiry(kPension,
                     Inquiry("r1", a_[kPension], "np-benefit", kInsurer, "medical-insurance"));
  ASSERT_EQ(Events(), std::vector<Event>{Event::kInquiryRefused});
  env_.MakeDurable();
  RestartBroker();  // a new broker: nothing in memory
  env_.Clear();
  AskLawful("r1");
  EXPECT_TRUE(env_.records.empty());
  EXPECT_EQ(stats_->duplicates.value(), 1u);
  // Another agency's r1 is its own.
  broker_->OnInquiry(kChiyoda, Inquiry("r1", a_[kChiyoda], "np-benefit", kPension, "pension"));
  EXPECT_FALSE(env_.records.empty());
  EXPECT_EQ(stats_->duplicates.value(), 1u);
}

TEST_F(InquiryBrokerTest, TheStoreIsAskedOnlyWhenMemoryDoesNotKnowTheId) {
  AskLawful("r1");
  const int reads = env_.request_index_reads;
  AskLawful("r1");  // open: memory answers
  EXPECT_EQ(env_.request_index_reads, reads);
}

TEST_F(InquiryBrokerTest, OutcomeThenReceiptClosesTheExchange) {
  const int64_t accepted = env_.now_us;
  AskLawful("r1");
  env_.Clear();
  env_.now_us += 1000;
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_PROVIDED));
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kProvided}));
  EXPECT_EQ(env_.records[0].outcome, "PROVIDED");
  EXPECT_EQ(env_.records[0].request_id, "r1");
  EXPECT_EQ(broker_->open_count(), 1u);
  EXPECT_EQ(broker_->NextDeadline(), accepted + kDeadlineUs + kReceiptGraceUs)
      << "an answered exchange waits only for its receipt";
  env_.now_us += 1000;
  broker_->OnReceipt(kPension, Receipt("r1", "x1"));
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kProvided, Event::kReceived}));
  EXPECT_EQ(env_.records[1].outcome, "PROVIDED");
  EXPECT_EQ(broker_->open_count(), 0u);
  EXPECT_TRUE(env_.after_commit.empty()) << "outcomes and receipts gate no message";
  EXPECT_EQ(stats_->exchange_latency.count(), 1u);
  EXPECT_EQ(stats_->by_outcome[v1::OUTCOME_PROVIDED]->value(), 1u);
}

TEST_F(InquiryBrokerTest, ReceiptBeforeOutcomeWaitsForTheOutcomeToClose) {
  AskLawful("r1");
  env_.Clear();
  broker_->OnReceipt(kPension, Receipt("r1", "x1"));
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kReceived}));
  EXPECT_EQ(broker_->open_count(), 1u);
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_NOT_HELD));
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kReceived, Event::kNotHeld}));
  EXPECT_EQ(env_.records[1].outcome, "NOT_HELD");
  EXPECT_EQ(broker_->open_count(), 0u);
}

TEST_F(InquiryBrokerTest, AnOutcomeFromAnotherAgencyIsIgnored) {
  AskLawful("r1");
  env_.Clear();
  broker_->OnOutcome(kInsurer, Outcome("x1", v1::OUTCOME_PROVIDED));
  EXPECT_TRUE(env_.records.empty());
  EXPECT_EQ(stats_->unexpected_outcomes.value(), 1u);
  // The real provider still can.
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_PROVIDED));
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kProvided}));
}

TEST_F(InquiryBrokerTest, ASecondOutcomeIsIgnored) {
  AskLawful("r1");
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_PROVIDED));
  env_.Clear();
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_NOT_HELD));
  EXPECT_TRUE(env_.records.empty());
  EXPECT_EQ(stats_->unexpected_outcomes.value(), 1u);
}

TEST_F(InquiryBrokerTest, AnOutcomeForNoOpenExchangeIsIgnored) {
  broker_->OnOutcome(kChiyoda, Outcome("x42", v1::OUTCOME_PROVIDED));
  EXPECT_TRUE(env_.records.empty());
  EXPECT_EQ(stats_->unexpected_outcomes.value(), 1u);
}

TEST_F(InquiryBrokerTest, AnOutcomeNamingTheInquirersRequestIdFindsNothing) {
  AskLawful("r1");
  env_.Clear();
  broker_->OnOutcome(kChiyoda, Outcome("r1", v1::OUTCOME_PROVIDED));
  EXPECT_TRUE(env_.records.empty());
}

TEST_F(InquiryBrokerTest, AProviderCannotClaimATimeoutOrAnythingElse) {
  AskLawful("r1");
  env_.Clear();
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_TIMED_OUT));
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kFailed}));
  EXPECT_EQ(env_.records[0].outcome, "FAILED");
}

TEST_F(InquiryBrokerTest, TheNonDisclosureFlagMarksTheOutcomeAndTheReceipt) {
  AskLawful("r1");
  env_.Clear();
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_PROVIDED, /*non_disclosure=*/true));
  broker_->OnReceipt(kPension, Receipt("r1", "x1"));
  ASSERT_EQ(env_.records.size(), 2u);
  EXPECT_TRUE(env_.records[0].non_disclosure);
  EXPECT_TRUE(env_.records[1].non_disclosure);
}

TEST_F(InquiryBrokerTest, AReceiptFromAnotherAgencyIsIgnored) {
  AskLawful("r1");
  env_.Clear();
  broker_->OnReceipt(kInsurer, Receipt("r1", "x1"));
  EXPECT_TRUE(env_.records.empty());
  EXPECT_EQ(stats_->unexpected_receipts.value(), 1u);
}

TEST_F(InquiryBrokerTest, ASecondReceiptIsIgnored) {
  AskLawful("r1");
  broker_->OnReceipt(kPension, Receipt("r1", "x1"));
  env_.Clear();
  broker_->OnReceipt(kPension, Receipt("r1", "x1"));
  EXPECT_TRUE(env_.records.empty());
  EXPECT_EQ(stats_->unexpected_receipts.value(), 1u);
}

TEST_F(InquiryBrokerTest, AReceiptSayingNothingArrivedIsRecordedAsNotReceived) {
  AskLawful("r1");
  env_.Clear();
  broker_->OnReceipt(kPension, Receipt("r1", "x1", /*received=*/false));
  ASSERT_EQ(env_.records.size(), 1u);
  EXPECT_EQ(env_.records[0].outcome, "NOT_RECEIVED");
}

TEST_F(InquiryBrokerTest, ASilentProviderTimesOutExactlyAtTheDeadline) {
  AskLawful("r1");
  const int64_t deadline = env_.now_us + kDeadlineUs;
  EXPECT_EQ(broker_->NextDeadline(), deadline);
  env_.Clear();
  env_.now_us = deadline - 1;
  broker_->ExpireDeadlines();
  EXPECT_TRUE(env_.records.empty());
  env_.now_us = deadline;
  broker_->ExpireDeadlines();
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kTimedOut}));
  EXPECT_EQ(env_.records[0].outcome, "TIMED_OUT");
  ASSERT_EQ(env_.after_commit.size(), 1u);
  EXPECT_EQ(env_.after_commit[0].first, kPension);
  EXPECT_EQ(env_.after_commit[0].second.request_id(), "r1");
  EXPECT_EQ(env_.after_commit[0].second.inquiry_result().outcome(), v1::OUTCOME_TIMED_OUT);
  EXPECT_EQ(broker_->open_count(), 0u);
  EXPECT_FALSE(broker_->NextDeadline().has_value());
}

TEST_F(InquiryBrokerTest, ALateOutcomeAfterTheDeadlineRecordsNothing) {
  AskLawful("r1");
  env_.now_us += kDeadlineUs;
  broker_->ExpireDeadlines();
  env_.Clear();
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_PROVIDED));
  broker_->OnReceipt(kPension, Receipt("r1", "x1"));
  EXPECT_TRUE(env_.records.empty());
  EXPECT_EQ(stats_->unexpected_outcomes.value(), 1u);
  EXPECT_EQ(stats_->unexpected_receipts.value(), 1u);
}

TEST_F(InquiryBrokerTest, AnAnsweredExchangeDoesNotTimeOut) {
  AskLawful("r1");
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_PROVIDED));
  env_.Clear();
  env_.now_us += kDeadlineUs + kReceiptGraceUs - 1;
  broker_->ExpireDeadlines();
  EXPECT_TRUE(env_.records.empty());
  EXPECT_EQ(broker_->open_count(), 1u) << "still waiting for the receipt";
}

TEST_F(InquiryBrokerTest, AnExchangeWithoutAReceiptClosesAsNotConfirmedAtItsReceiptDeadline) {
  const int64_t accepted = env_.now_us;
  AskLawful("r1");
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_PROVIDED));
  EXPECT_EQ(broker_->NextDeadline(), accepted + kDeadlineUs + kReceiptGraceUs);
  env_.Clear();
  env_.now_us = accepted + kDeadlineUs + kReceiptGraceUs;
  broker_->ExpireDeadlines();
  EXPECT_EQ(Events(), (std::vector<Event>{Event::kReceived}));
  EXPECT_EQ(env_.records[0].outcome, "NOT_CONFIRMED");
  EXPECT_EQ(env_.records[0].request_id, "r1");
  EXPECT_TRUE(env_.after_commit.empty()) << "nothing is sent for an unconfirmed exchange";
  EXPECT_EQ(broker_->open_count(), 0u);
  EXPECT_FALSE(broker_->NextDeadline().has_value());
  EXPECT_EQ(stats_->receipts_not_confirmed.value(), 1u);
  // A receipt that comes after that finds nothing and records nothing.
  env_.Clear();
  broker_->OnReceipt(kPension, Receipt("r1", "x1"));
  EXPECT_TRUE(env_.records.empty());
  EXPECT_EQ(stats_->unexpected_receipts.value(), 1u);
  // Its request id is still a duplicate.
  AskLawful("r1");
  EXPECT_EQ(stats_->duplicates.value(), 1u);
}

TEST_F(InquiryBrokerTest, AReceiptBeforeTheReceiptDeadlineClosesNormally) {
  AskLawful("r1");
  broker_->OnOutcome(kChiyoda, Outcome("x1", v1::OUTCOME_NOT_HELD));
  env_.now_us += kDeadlineUs + kReceiptGraceUs - 1;
  broker_->OnReceipt(kPension, Receipt("r1", "x1"));
  env_.Clear();
  env_.now_us += 1;
  broker_->ExpireDeadlines();
  EXPECT_TRUE(env_.records.empty());
  EXPECT_EQ(broker_->open_count(), 0u);
  EXPECT_EQ(stats_->receipts_not_confirmed.value(), 0u);
}

TEST_F(InquiryBrokerTest, ThousandsOfUnconfirmedExchangesAllClose) {
  for (int i = 0; i < 2000; ++i) {
    env_.now_us += 10'000;  // within the pension service's rate
    AskLawful("r" + std::to_string(i));
    broker_->OnOutcome(kChiyoda, Outcome("x" + std::to_string(i + 1), v1::OUTCOME_PROVIDED));
  }
  EXPECT_EQ(broker_->open_count(), 2000u);
  env_.now_us += kDeadlineUs + kReceiptGraceUs;
  broker_->ExpireDeadlines();
  broker_->Forget();
  EXPECT_EQ(broker_->open_count(), 0u);
  EXPECT_EQ(stats_->receipts_not_confirmed.value(), 2000u);
  EXPECT_FALSE(broker_->NextDeadline().has_value());
}

TEST_F(InquiryBrokerTest, DeadlinesExpireInOrder) {
  AskLawful("r1");
  env_.now_us += 1'000'000;
  AskLawful("r2");
  EXPECT_EQ(broker_->NextDeadline(), env_.now_us - 1'000'000 + kDeadlineUs);
  env_.Clear();
  env_.now_us += kDeadlineUs - 1'000'000;  // r1's deadline, not r2's
  broker_->ExpireDeadlines();
  ASSERT_EQ(env_.records.size(), 1u);
  EXPECT_EQ(env_.records[0].request_id, "r1");
  EXPECT_EQ(broker_->NextDeadline(), env_.now_us + 1'000'000);
}

TEST_F(InquiryBrokerTest, EveryDecisionIsCountedOnceByKind) {
  AskLawful("r1");
  broker_->OnInquiry(kPension, Inquiry("r2", b_[kPension], "np-benefit", kChiyoda, "local-tax"));
  broker_->OnInquiry(kPension,
                     Inquiry("r3", a_[kPension], "np-benefit", kInsurer, "medical-insurance"));
  EXPECT_EQ(stats_->accepted.value(), 1u);
  EXPECT_EQ(stats_->refused.value(), 2u);
  EXPECT_EQ(stats_->by_reason[v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER]->value(), 1u);
  EXPECT_EQ(stats_->by_reason[v1::DENY_REASON_NO_SUCH_LINK]->value(), 1u);
  // An outcome's "not held" is another counter than the core's "not issued" refusal.
  EXPECT_EQ(stats_->by_outcome[v1::OUTCOME_NOT_HELD]->value(), 0u);
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find("ipn_core_decisions_total{decision=\"accepted\"} 1"), std::string::npos);
  EXPECT_NE(text.find("ipn_core_refusals_total{reason=\"not_issued_to_provider\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace ipn::core::testing
