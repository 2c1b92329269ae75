// RecordAccess: who may read the records and what each read leaves behind — decided by
// the asker's directory class on every request, each pull page and statistics read and
// every refusal audited before its reply; a person's history withholds non-disclosure
// and unsettled exchanges. Over a real record store in a temp dir; no socket.
#include "core/record_access.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "oversight/person_history.h"
#include "records/audit_record.h"
#include "records/person_map.h"
#include "records/record_store.h"
#include "tests/core/broker_fixture.h"

namespace ipn::core::testing {
namespace {

using records::Event;

class RecordAccessTest : public BrokerFixture {
 protected:
  void SetUp() override {
    BrokerFixture::SetUp();
    auto keys = symbols_->GetRecordKeys();
    ASSERT_TRUE(keys.ok());
    records::RecordStoreOptions o;
    o.dir = dir_.Sub("records");
    o.encryption_keys = std::move(keys->encryption);
    o.signing_secret_key = std::move(keys->signing_secret_key);
    o.tree_head_every_records = 0;
    o.tree_head_every_us = 0;
    o.purge_every_us = 0;
    auto store = records::RecordStore::Open(std::move(o));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    access_ = std::make_unique<RecordAccess>(store_.get(), symbols_.get(), policy_.get(), &env_,
                                             log_.get());
  }

  // Runs one lawful exchange through the broker and makes its records durable, with the
  // given end (outcome; or none: left unsettled).
  void Exchange(const std::string& request_id, std::optional<v1::Outcome> outcome,
                bool non_disclosure = false) {
    env_.Clear();
    AskLawful(request_id);
    const std::string id = env_.sent_now.at(0).second.forwarded_inquiry().exchange_id();
    if (outcome) broker_->OnOutcome(kChiyoda, Outcome(id, *outcome, non_disclosure));
    ASSERT_TRUE(store_->AppendBatch(env_.records).ok());
    env_.Clear();
  }

  v1::Envelope HistoryQuery(const std::string& symbol) {
    v1::Envelope e;
    e.set_request_id("q1");
    e.mutable_record_query()->set_person_symbol(symbol);
    return e;
  }

  // The portal reads the exchanges' person's history with proofs; the reply is
  // env_.after_commit[0].
  void ReadHistoryWithProofs() {
    v1::Envelope query =
        HistoryQuery(Issue(symbol::testing::DistinctResidentCodes(1)[0], "PORTAL-0001"));
    query.mutable_record_query()->set_with_proofs(true);
    access_->OnRecordQuery("PORTAL-0001", query);
  }

  std::optional<records::AuditRecord> OnlyAudit() const {
    EXPECT_EQ(env_.records.size(), 1u);
    return env_.records.empty() ? std::nullopt : records::AuditRecordOf(env_.records[0]);
  }

  std::unique_ptr<records::RecordStore> store_;
  std::unique_ptr<RecordAccess> access_;
};

TEST_F(RecordAccessTest, ThePortalReadsAPersonsSettledHistoryInLogOrder) {
  Exchange("r1", v1::OUTCOME_PROVIDED);
  env_.now_us += 1000;
  Exchange("r2", v1::OUTCOME_NOT_HELD);
  env_.now_us += 1000;
  Exchange("r3", std::nullopt);  // not settled yet: withheld
  const std::string portal_symbol =
      Issue(symbol::testing::DistinctResidentCodes(1)[0], "PORTAL-0001");
  access_->OnRecordQuery("PORTAL-0001", HistoryQuery(portal_symbol));
  EXPECT_TRUE(env_.records.empty()) << "a person's history read is not an operator action";
  ASSERT_EQ(env_.after_commit.size(), 1u);
  EXPECT_EQ(env_.after_commit[0].first, "PORTAL-0001");
  const v1::RecordPage& page = env_.after_commit[0].second.record_page();
  ASSERT_EQ(page.records_size(), 6);  // r1: accepted, forwarded, provided; r2 likewise
  EXPECT_EQ(page.records(0).request_id(), "r1");
  EXPECT_EQ(page.records(0).event(), "inquiry_accepted");
  EXPECT_EQ(page.records(5).request_id(), "r2");
  EXPECT_EQ(page.records(5).event(), "not_held");
  EXPECT_EQ(page.withheld(), 0u);  // r3's two records leave no count either
}

TEST_F(RecordAccessTest, NonDisclosureExchangesAreWithheldWhole) {
  Exchange("r1", v1::OUTCOME_PROVIDED, /*non_disclosure=*/true);
  Exchange("r2", v1::OUTCOME_PROVIDED);
  const std::string portal_symbol =
      Issue(symbol::testing::DistinctResidentCodes(1)[0], "PORTAL-0001");
  access_->OnRecordQuery("PORTAL-0001", HistoryQuery(portal_symbol));
  const v1::RecordPage& page = env_.after_commit.at(0).second.record_page();
  ASSERT_EQ(page.records_size(), 3);
  for (const auto& r : page.records()) EXPECT_EQ(r.request_id(), "r2");
  EXPECT_EQ(page.withheld(), 0u);  // not even how many were withheld
}

records::Hash HashOf(const std::string& bytes) {
  records::Hash h{};
  EXPECT_EQ(bytes.size(), h.size());
  std::copy_n(bytes.begin(), std::min(bytes.size(), h.size()), h.begin());
  return h;
}

// The page's proof: a version 2 head whose disclosed map holds, for this person, exactly
// the chain over the settling records shown, in log order; the withheld exchange is in the
// withheld map, which only the store's (the commission's) proof opens.
TEST_F(RecordAccessTest, CompleteHistoryProofCommitsToExactlyTheExchangesShown) {
  Exchange("r1", v1::OUTCOME_PROVIDED);
  Exchange("r2", v1::OUTCOME_PROVIDED, /*non_disclosure=*/true);
  Exchange("r3", v1::OUTCOME_NOT_HELD);
  Exchange("r4", std::nullopt);
  ReadHistoryWithProofs();
  const v1::RecordPage& page = env_.after_commit.at(0).second.record_page();
  ASSERT_EQ(page.tree_head().version(), 2u);
  ASSERT_EQ(page.records_size(), 6);
  std::vector<records::Hash> settling;
  uint64_t last = 0;
  for (const v1::ProvisionRecordView& r : page.records()) {
    EXPECT_TRUE(r.request_id() == "r1" || r.request_id() == "r3") << r.request_id();
    EXPECT_GE(r.sequence(), last);
    last = r.sequence();
    if (r.event() == "provided" || r.event() == "not_held") {
      Result<records::Hash> leaf = store_->LeafHashAt(r.sequence());
      ASSERT_TRUE(leaf.ok());
      settling.push_back(*leaf);
    }
  }
  ASSERT_EQ(settling.size(), 2u);

  const v1::HistoryProofView& view = page.history_proof();
  ASSERT_EQ(view.end(), v1::HistoryProofView::END_LEAF);
  records::MapProof proof;
  proof.key = HashOf(view.key());
  proof.end = records::MapProof::End::kLeaf;
  proof.value = {HashOf(view.chain()), view.count()};
  for (const std::string& h : view.siblings()) proof.siblings.push_back(HashOf(h));
  Result<records::HistoryState> state =
      records::VerifyMapProof(proof, HashOf(page.tree_head().person_root()));
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(*state, records::ChainOf(settling));
  for (const v1::ProvisionRecordView& r : page.records()) EXPECT_EQ(r.record_symbol(), view.key());

  Result<records::RecordStore::HistoryProof> full =
      store_->ProveHistory(proof.key, 0, page.tree_head().tree_size());
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  Result<records::HistoryState> withheld =
      records::VerifyMapProof(full->withheld, HashOf(page.tree_head().withheld_root()));
  ASSERT_TRUE(withheld.ok()) << withheld.status().ToString();
  EXPECT_EQ(withheld->count, 1u);  // r2
}

// The commission's witness publishes its cosignature of a head: citizens' histories are
// then proven against that head and carry the cosignature, and records after it wait; a
// cosignature that does not verify is refused, audited, and changes nothing.
TEST_F(RecordAccessTest, CosignedHeadIsTheOneCitizensHistoriesAreProvenAgainst) {
  Exchange("r1", v1::OUTCOME_PROVIDED);
  Result<v1::TreeHeadResponse> head = access_->TreeHead(0, 0);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  const uint64_t cosigned_size = head->head().tree_size();
  records::SignedTreeHead signed_head;
  signed_head.version = 2;
  signed_head.tree_size = cosigned_size;
  signed_head.timestamp_us = head->head().timestamp_us();
  signed_head.root_hash = HashOf(head->head().root_hash());
  signed_head.history = {HashOf(head->head().person_root()), HashOf(head->head().withheld_root())};
  signed_head.signer = HashOf(head->head().signer());
  std::copy_n(head->head().signature().begin(), 64, signed_head.signature.begin());
  records::PublicKey witness{};
  std::array<uint8_t, 64> witness_secret{};
  crypto_sign_keypair(witness.data(), witness_secret.data());
  const std::string input = records::CosigningInput(signed_head, 1234);
  std::array<uint8_t, 64> signature{};
  crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const uint8_t*>(input.data()),
                       input.size(), witness_secret.data());
  auto publish = [&](const std::array<uint8_t, 64>& sig) {
    env_.Clear();
    v1::Envelope e;
    e.set_request_id("w1");
    v1::CosignatureView* c = e.mutable_tree_head_request()->mutable_cosignature();
    e.mutable_tree_head_request()->set_new_size(cosigned_size);
    c->set_tree_size(cosigned_size);
    c->set_timestamp_us(signed_head.timestamp_us);
    c->set_witness(witness.data(), witness.size());
    c->set_cosigned_unix_us(1234);
    c->set_signature(sig.data(), sig.size());
    access_->OnTreeHeadRequest("PPC-0001", e);
    return OnlyAudit();
  };
  std::optional<records::AuditRecord> audit = publish(signature);
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->action, "cosignature");
  EXPECT_EQ(audit->outcome, "ok");
  ASSERT_TRUE(store_->AppendBatch(env_.records).ok());
  Exchange("r2", v1::OUTCOME_PROVIDED);  // after the cosigned head

  std::array<uint8_t, 64> forged = signature;
  forged[0] ^= 1;
  audit = publish(forged);
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->outcome.rfind("refused: the cosignature does not verify", 0), 0u)
      << audit->outcome;
  ASSERT_TRUE(store_->AppendBatch(env_.records).ok());
  env_.Clear();

  ReadHistoryWithProofs();
  const v1::RecordPage& page = env_.after_commit.at(0).second.record_page();
  EXPECT_EQ(page.tree_head().tree_size(), cosigned_size);
  ASSERT_TRUE(page.has_cosignature());
  EXPECT_EQ(page.cosignature().signature(),
            std::string(reinterpret_cast<const char*>(signature.data()), signature.size()));
  EXPECT_EQ(page.history_proof().count(), 1u);  // r1 only: r2 came after the cosigned head
  for (const auto& r : page.records()) EXPECT_EQ(r.request_id(), "r1");
  sodium_memzero(witness_secret.data(), witness_secret.size());
}

// What the commission shows a court: the person's records by record symbol prove that the
// disclosed exchanges are complete and that the withheld one exists, is flagged and is
// this person's; leaving it out, or passing another's record off as theirs, is caught.
TEST_F(RecordAccessTest, CompleteHistoryForTheCommissionProvesTheWithheldExchange) {
  Exchange("r1", v1::OUTCOME_PROVIDED);
  Exchange("r2", v1::OUTCOME_PROVIDED, /*non_disclosure=*/true);
  Exchange("r3", std::nullopt);
  ReadHistoryWithProofs();
  const std::string person = env_.after_commit.at(0).second.record_page().history_proof().key();
  env_.Clear();

  v1::Envelope by_symbol;
  by_symbol.set_request_id("c1");
  by_symbol.mutable_record_query()->set_record_symbol(person);
  access_->OnRecordQuery("PORTAL-0001", by_symbol);
  EXPECT_EQ(OnlyAudit()->outcome,
            "refused: only the oversight commission may read a person's records by symbol");
  env_.Clear();
  access_->OnRecordQuery("PPC-0001", by_symbol);
  EXPECT_EQ(OnlyAudit()->action, "person_records");
  const v1::RecordPage page = env_.after_commit.at(0).second.record_page();
  records::PublicKey key = store_->signing_public_key();
  records::RecordSymbolBytes who{};
  std::copy(person.begin(), person.end(), who.begin());
  Result<oversight::PersonHistoryReport> report = oversight::VerifyPersonHistory(page, key, who);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records, 8u);  // r1 and r2: three records each; r3: two so far
  EXPECT_EQ(report->disclosed, 1u);
  EXPECT_EQ(report->withheld, 1u);
  ASSERT_EQ(report->withheld_settling.size(), 1u);
  EXPECT_EQ(report->withheld_settling[0].request_id, "r2");
  EXPECT_TRUE(report->withheld_settling[0].non_disclosure);

  v1::RecordPage dropped = page;  // the withheld exchange's settling record left out
  for (int i = 0; i < dropped.records_size(); ++i) {
    if (dropped.records(i).non_disclosure()) {
      dropped.mutable_records()->DeleteSubrange(i, 1);
      break;
    }
  }
  Result<oversight::PersonHistoryReport> caught = oversight::VerifyPersonHistory(dropped, key, who);
  ASSERT_FALSE(caught.ok());
  EXPECT_NE(caught.status().message().find("withheld exchanges are not the person's"),
            std::string::npos)
      << caught.status().ToString();
  v1::RecordPage unflagged = page;  // the flag cleared: the leaf no longer verifies
  for (auto& r : *unflagged.mutable_records()) r.set_non_disclosure(false);
  EXPECT_FALSE(oversight::VerifyPersonHistory(unflagged, key, who).ok());
  records::RecordSymbolBytes someone_else = who;  // the answer passed off as another's
  someone_else[0] ^= 1;
  Result<oversight::PersonHistoryReport> other =
      oversight::VerifyPersonHistory(page, key, someone_else);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("another person"), std::string::npos)
      << other.status().ToString();
}

// A split view from the core's side: a cosignature of a head this store never signed (the
// witness cosigned a fork the core showed it) is refused and recorded, and citizens'
// histories then carry no cosignature, which the page refuses.
TEST_F(RecordAccessTest, SplitViewACosignatureOfAHeadThisLogNeverSignedIsRefused) {
  Exchange("r1", v1::OUTCOME_PROVIDED);
  v1::Envelope e;
  e.set_request_id("w1");
  v1::CosignatureView* c = e.mutable_tree_head_request()->mutable_cosignature();
  c->set_tree_size(store_->Size());
  c->set_timestamp_us(42);  // no head of this log was signed then
  c->set_witness(std::string(32, '\x01'));
  c->set_signature(std::string(64, '\x02'));
  access_->OnTreeHeadRequest("PPC-0001", e);
  std::optional<records::AuditRecord> audit = OnlyAudit();
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->action, "cosignature");
  EXPECT_EQ(audit->outcome.rfind("refused: no head of size", 0), 0u) << audit->outcome;
  EXPECT_EQ(env_.after_commit.at(0).second.error().code(), v1::ERROR_CODE_NOT_FOUND);
  ASSERT_TRUE(store_->AppendBatch(env_.records).ok());
  env_.Clear();
  ReadHistoryWithProofs();
  EXPECT_FALSE(env_.after_commit.at(0).second.record_page().has_cosignature());
}

TEST_F(RecordAccessTest, OnlyThePortalMayReadAPersonsHistoryAndARefusalIsAudited) {
  access_->OnRecordQuery(kPension, HistoryQuery(a_[kPension]));
  auto audit = OnlyAudit();
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->actor, kPension);
  EXPECT_EQ(audit->action, "person_history");
  EXPECT_EQ(audit->outcome, "refused: only the disclosure portal may read a person's history");
  EXPECT_EQ(audit->request_id, "q1");
  ASSERT_EQ(env_.after_commit.size(), 1u);
  EXPECT_EQ(env_.after_commit[0].second.error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
}

TEST_F(RecordAccessTest, OnlyTheCommissionMayPullAndEachPageIsAudited) {
  Exchange("r1", v1::OUTCOME_PROVIDED);
  v1::Envelope pull;
  pull.set_request_id("p1");
  pull.mutable_record_query()->set_from_unix_us(0);
  pull.mutable_record_query()->set_to_unix_us(env_.now_us + 1);
  access_->OnRecordQuery("PORTAL-0001", pull);
  EXPECT_EQ(OnlyAudit()->outcome, "refused: only the oversight commission may pull records");
  env_.Clear();

  access_->OnRecordQuery("PPC-0001", pull);
  auto audit = OnlyAudit();
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->action, "records_pull");
  EXPECT_EQ(audit->outcome, "ok: sequences 0-2");
  EXPECT_EQ(audit->detail, "0.." + std::to_string(env_.now_us + 1));
  const v1::RecordPage& page = env_.after_commit.at(0).second.record_page();
  EXPECT_EQ(page.records_size(), 3);
  EXPECT_EQ(page.tree_head().tree_size(), 3u);
  EXPECT_EQ(page.records(0).inclusion_path_size() > 0, true);
}

TEST_F(RecordAccessTest, StatisticsAndHeadsAreTheCommissionsOnly) {
  Exchange("r1", v1::OUTCOME_PROVIDED);
  v1::Envelope stats;
  stats.set_request_id("s1");
  stats.mutable_stats_query()->set_from_unix_us(0);
  stats.mutable_stats_query()->set_to_unix_us(env_.now_us + 1);
  access_->OnStatsQuery(kPension, stats);
  EXPECT_EQ(OnlyAudit()->action, "stats");
  env_.Clear();
  access_->OnStatsQuery("PPC-0001", stats);
  EXPECT_EQ(OnlyAudit()->action, "stats_read");
  EXPECT_EQ(env_.after_commit.at(0).second.stats_report().rows_size(), 3);
  env_.Clear();

  v1::Envelope head;
  head.set_request_id("h1");
  access_->OnTreeHeadRequest(kPension, head);
  EXPECT_EQ(OnlyAudit()->action, "tree_head");
  env_.Clear();
  access_->OnTreeHeadRequest("PPC-0001", head);
  EXPECT_TRUE(env_.records.empty());
  EXPECT_EQ(env_.after_commit.at(0).second.tree_head_response().head().tree_size(), 3u);
}

TEST_F(RecordAccessTest, AnEmptyTimeRangeIsAClearError) {
  v1::Envelope pull;
  pull.set_request_id("p1");
  pull.mutable_record_query()->set_from_unix_us(10);
  pull.mutable_record_query()->set_to_unix_us(10);
  access_->OnRecordQuery("PPC-0001", pull);
  EXPECT_TRUE(env_.records.empty());
  const v1::Error& e = env_.after_commit.at(0).second.error();
  EXPECT_EQ(e.code(), v1::ERROR_CODE_MALFORMED);
  EXPECT_EQ(e.reason(), "the time range is empty (from >= to)");
}

}  // namespace
}  // namespace ipn::core::testing
