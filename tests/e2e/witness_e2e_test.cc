// The commission's witness against a live network: `ipn oversight witness` run round by
// round through the commission's node cosigns the core's heads as the log grows, each
// cosignature verifying with the witness's public key and each head extending the one
// before; a lost kept head is taken again from the last publication; a kept head the
// core's key never signed stops the witness with a clear error and nothing published.
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/encoding.h"
#include "common/file_util.h"
#include "oversight/pulled_set.h"
#include "oversight/witness.h"
#include "tests/e2e/e2e_fixture.h"

namespace ipn::testing {
namespace {

constexpr const char* kReg = "REG-0001";
constexpr const char* kMun = "MUN-131016";
constexpr const char* kPen = "PEN-0001";
constexpr const char* kPpc = "PPC-0001";

// The file's text, or "" when it cannot be read.
std::string Text(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  return text.ok() ? *text : std::string();
}

std::vector<oversight::Cosignature> Published(const std::string& state) {
  std::vector<oversight::Cosignature> out;
  Result<std::string> text = ReadFile(state + "/cosignatures.jsonl");
  if (!text.ok()) return out;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    Result<oversight::Cosignature> c = oversight::ParseCosignatureJson(line);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (c.ok()) out.push_back(*c);
  }
  return out;
}

TEST(WitnessE2eTest, TheCommissionCosignsEachHeadThatExtendsTheLast) {
  E2eNetwork n({kReg, kMun, kPen, kPpc});
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string code = ResidentCodeFrom("1357924680");
  n.IssueSymbol(kMun, code, "p1");
  std::vector<uint8_t> at_pen = n.IssueSymbol(kPen, code, "p1");

  // The witness's key, as `ipn policy keygen` writes it (hex of seed || public key).
  records::PublicKey witness_public{};
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> witness_secret{};
  crypto_sign_keypair(witness_public.data(), witness_secret.data());
  const std::string key_file = n.dir() + "/witness.secret", state = n.dir() + "/witness";
  ASSERT_TRUE(WriteFileAtomic(key_file, HexEncode(witness_secret) + "\n").ok());
  sodium_memzero(witness_secret.data(), witness_secret.size());
  Result<v1::TreeHeadResponse> first =
      n.Client(kPpc).RequestTreeHead(0, 0, std::chrono::seconds(10));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Result<records::SignedTreeHead> first_head = oversight::FromView(first->head());
  ASSERT_TRUE(first_head.ok()) << first_head.status().ToString();
  const std::string records_key = HexEncode(first_head->signer);

  auto witness_round = [&]() {
    const std::string command = BinDir() + "/ipn oversight witness --node " +
                                n.net().LocalEndpoint(kPpc) + " --records-key " + records_key +
                                " --key " + key_file + " --state " + state + " </dev/null >" +
                                n.dir() + "/witness.out 2>" + n.dir() + "/witness.err";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  ASSERT_EQ(witness_round(), 0) << Text(n.dir() + "/witness.err");
  interface::InquiryReply reply = n.Inquire(kPen, at_pen, "np-benefit", kMun, "local-tax", "w-1");
  ASSERT_EQ(reply.outcome, n.ExpectedOutcome(kMun, "p1", "local-tax")) << reply.explanation;
  ASSERT_EQ(witness_round(), 0) << Text(n.dir() + "/witness.err");

  std::vector<oversight::Cosignature> published = Published(state);
  ASSERT_EQ(published.size(), 2u);
  for (const oversight::Cosignature& c : published) {
    EXPECT_TRUE(oversight::VerifyCosignature(c, witness_public));
    EXPECT_EQ(HexEncode(c.head.signer), records_key);
  }
  // The inquiry's records (and the pull audit) lie between the two heads.
  EXPECT_GT(published[1].head.tree_size, published[0].head.tree_size);
  Result<records::SignedTreeHead> kept =
      oversight::ParseTreeHeadJson(Text(state + "/latest-head.json"));
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, published[1].head);

  // The kept head lost: the witness resumes from the last head it published.
  ASSERT_EQ(std::remove((state + "/latest-head.json").c_str()), 0);
  ASSERT_EQ(witness_round(), 0) << Text(n.dir() + "/witness.err");
  EXPECT_NE(Text(n.dir() + "/witness.out")
                .find("consistent with size " + std::to_string(published[1].head.tree_size)),
            std::string::npos)
      << Text(n.dir() + "/witness.out");
  published = Published(state);
  ASSERT_EQ(published.size(), 3u);
  kept = oversight::ParseTreeHeadJson(Text(state + "/latest-head.json"));
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, published[2].head);

  // A kept head altered on disk: the witness refuses to start from it, publishes nothing.
  records::SignedTreeHead forged = *kept;
  forged.root_hash[0] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(state + "/latest-head.json", oversight::TreeHeadJson(forged)).ok());
  EXPECT_EQ(witness_round(), 1);
  EXPECT_NE(Text(n.dir() + "/witness.err").find("not signed by the log's key"), std::string::npos);
  EXPECT_EQ(Published(state).size(), 3u);
}

// `ipn oversight person`: the commission reads one person's records by the record symbol
// a pull showed it, and verifies them complete against the core's version 2 head.
TEST(CompleteHistoryE2eTest, TheCommissionVerifiesAPersonsHistoryByRecordSymbol) {
  E2eNetwork n({kReg, kMun, kPen, kPpc});
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string code = ResidentCodeFrom("2468013579");
  n.IssueSymbol(kMun, code, "p1");
  std::vector<uint8_t> at_pen = n.IssueSymbol(kPen, code, "p1");
  for (const char* id : {"c-1", "c-2"}) {
    interface::InquiryReply reply = n.Inquire(kPen, at_pen, "np-benefit", kMun, "local-tax", id);
    ASSERT_EQ(reply.outcome, n.ExpectedOutcome(kMun, "p1", "local-tax")) << reply.explanation;
  }
  v1::RecordQuery q;
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  q.set_from_unix_us(now - 3'600'000'000LL);
  q.set_to_unix_us(now + 3'600'000'000LL);
  q.set_page_size(1000);
  Result<v1::RecordPage> page = n.Client(kPpc).QueryRecords(q, std::chrono::seconds(10));
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::string symbol;
  for (const v1::ProvisionRecordView& r : page->records()) {
    if (r.request_id() == "c-1") symbol = HexEncode(AsBytes(r.record_symbol()));
  }
  ASSERT_EQ(symbol.size(), 64u);
  const std::string records_key = HexEncode(AsBytes(page->tree_head().signer()));
  const std::string command = BinDir() + "/ipn oversight person --node " +
                              n.net().LocalEndpoint(kPpc) + " --records-key " + records_key +
                              " --symbol " + symbol + " --json </dev/null >" + n.dir() +
                              "/person.out 2>" + n.dir() + "/person.err";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Text(n.dir() + "/person.err");
  nlohmann::json report = nlohmann::json::parse(Text(n.dir() + "/person.out"), nullptr, false);
  ASSERT_TRUE(report.is_object()) << Text(n.dir() + "/person.out");
  EXPECT_EQ(report["disclosed_exchanges"], 2);
  EXPECT_EQ(report["withheld_exchanges"], 0);
  EXPECT_EQ(report["record_symbol"], symbol);
  EXPECT_EQ(report["head"]["version"], 2);

  // Another key named as the records key: nothing is taken as verified.
  std::string wrong = records_key;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  const std::string refused =
      BinDir() + "/ipn oversight person --node " + n.net().LocalEndpoint(kPpc) + " --records-key " +
      wrong + " --symbol " + symbol + " </dev/null >/dev/null 2>" + n.dir() + "/person.err";
  const int refused_status = std::system(refused.c_str());
  EXPECT_TRUE(WIFEXITED(refused_status) && WEXITSTATUS(refused_status) == 1);
  EXPECT_NE(Text(n.dir() + "/person.err").find("not signed by the records key"), std::string::npos)
      << Text(n.dir() + "/person.err");
}

}  // namespace
}  // namespace ipn::testing
