// ipn_fuzz_seeds DIR: writes the seed corpus of every fuzz target into DIR/<target>/, made
// by the code under test itself (a real pull of a real store, the demo policy compiled and
// signed, sealed answers, envelopes of every kind), so that each fuzzer starts from inputs
// that reach deep. The committed corpus (fuzz/corpus/) began as this program's output;
// scripts/fuzz adds what libFuzzer finds.
#include <sodium.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "common/curve_keys.h"
#include "core/record_access.h"
#include "interface/answer_seal.h"
#include "interface/peer_directory.h"
#include "oversight/pulled_set.h"
#include "policy/bundle.h"
#include "policy/demo_policy.h"
#include "records/record_codec.h"
#include "records/record_store.h"
#include "symbol/key_ring.h"
#include "symbol/resident_code.h"
#include "symbol/symbol_types.h"
#include "tests/interface/peer_node.h"
#include "tests/records/record_test_util.h"

namespace {

using namespace ipn;
namespace fs = std::filesystem;

class Seeds {
 public:
  explicit Seeds(fs::path root) : root_(std::move(root)) {}
  void Add(const std::string& target, uint8_t selector, std::string_view bytes) {
    std::string data(1, static_cast<char>(selector));
    data.append(bytes);
    Raw(target, data);
  }
  void Raw(const std::string& target, std::string_view bytes) {
    fs::create_directories(root_ / target);
    // Named by content, as libFuzzer names its corpus files.
    unsigned char hash[crypto_generichash_BYTES_MIN];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(bytes.data()),
                       bytes.size(), nullptr, 0);
    char hex[sizeof hash * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    std::ofstream(root_ / target / hex, std::ios::binary) << bytes;
  }

 private:
  fs::path root_;
};

std::string Bytes(std::span<const uint8_t> b) {
  return std::string(b.begin(), b.end());
}

void ResidentCodes(Seeds& s) {
  std::string code = "1234567890";
  code.push_back(symbol::ResidentCodeCheckDigit(std::span<const char, 10>(code.data(), 10)));
  for (const std::string& c :
       {code, std::string("12345678901"), std::string("１２３４５６７８９０１"), std::string("")}) {
    s.Raw("resident_code", c);
  }
}

void AgencySymbols(Seeds& s) {
  symbol::AgencySymbol a;
  for (size_t i = 0; i < a.bytes.size(); ++i) a.bytes[i] = static_cast<uint8_t>(i * 37 + 1);
  s.Add("agency_symbol", 0, a.ToPrintable());
  std::string lower = a.ToPrintable();
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  s.Add("agency_symbol", 0, lower);
  s.Add("agency_symbol", 1, Bytes(a.bytes));
}

void Records(Seeds& s) {
  for (uint64_t n = 0; n < 8; ++n) {
    std::string body;
    records::AppendBody(records::testing::SampleRecord(n % 3, n), body);
    s.Raw("record_codec", body);
  }
}

void Thresholds(Seeds& s) {
  s.Raw("thresholds", "# thresholds\nvolume_factor = 8\nrefusal_min_count = 30\n");
  s.Raw("thresholds",
        "volume_bucket_minutes=60\nperson_window_minutes = 120\n"
        "off_hours_grace_minutes = 15\nvolume_min_count = 10\n");
}

void PolicySeeds(Seeds& s) {
  const policy::PolicySource demo = policy::DemoPolicySource();
  int mode = 1;
  for (const char* name : {"agencies.csv", "businesses.csv", "items.csv", "links.csv"}) {
    s.Add("policy_csv", 0, demo.files.at(name));
    s.Add("policy_csv", static_cast<uint8_t>(mode++), demo.files.at(name));
  }
  s.Add("policy_csv", 0, "a,b\n\"x, \"\"y\"\"\",2\r\n# comment\n\n\xEF\xBB\xBFq,r\n");
  const policy::AdminKeyPair admin = policy::GenerateAdminKeyPair();
  auto file = policy::BuildDemoBundle({}, 7, admin.secret_key.span());
  if (!file.ok()) return;
  s.Add("policy_bundle", 0, Bytes(*file));
  s.Add("policy_bundle", 2, Bytes(*file));
  auto inner = policy::VerifyBundle(*file, admin.public_key);
  if (inner.ok()) s.Add("policy_bundle", 1, Bytes(*inner));
}

void KeyFiles(Seeds& s, const fs::path& scratch) {
  symbol::KeyRing ring = symbol::KeyRing::Generate();
  (void)ring.AddAgency("MUN-131016", 1'796'000'000'000'000);
  s.Add("key_file", 1, Bytes(ring.Serialize().span()));
  const std::string ring_path = (scratch / "ring").string();
  auto prepared =
      symbol::KeyRingFile::Prepare(ring_path, "seed", symbol::KdfStrength::kMinimumForTests);
  if (prepared.ok() && prepared->Save(ring).ok()) {
    std::ifstream in(ring_path, std::ios::binary);
    s.Add("key_file", 0, std::string(std::istreambuf_iterator<char>(in), {}));
  }
  const std::string key_path = (scratch / "keys.json").string();
  if (records::WriteKeyFile(key_path, records::GenerateRecordKeys()).ok()) {
    std::ifstream in(key_path);
    s.Add("key_file", 2, std::string(std::istreambuf_iterator<char>(in), {}));
  }
}

void PulledSets(Seeds& s, const fs::path& scratch) {
  records::testing::TestKeys keys;
  auto store = records::RecordStore::Open(keys.Options((scratch / "records").string()));
  if (!store.ok()) return;
  constexpr int64_t kT0 = 1'796'000'000'000'000;
  for (uint64_t i = 0; i < 12; ++i) {
    records::Record r =
        records::testing::SampleRecord(i % 3, i, kT0 + static_cast<int64_t>(i) * 1000);
    (void)(*store)->Append(r);
  }
  core::RecordAccess access(store->get(), nullptr, nullptr, nullptr, nullptr);
  oversight::PulledSet set;
  set.from_unix_us = kT0 + 2000;
  set.to_unix_us = kT0 + 9000;
  v1::RecordQuery q;
  q.set_from_unix_us(set.from_unix_us);
  q.set_to_unix_us(set.to_unix_us);
  q.set_page_size(4);
  for (int pages = 0; pages < 10; ++pages) {
    auto page = access.Pull(q);
    if (!page.ok() || !oversight::AddPage(*page, &set).ok()) return;
    if (page->next_page_token().empty()) break;
    q.set_page_token(page->next_page_token());
  }
  std::string out = oversight::PullLine(set) + oversight::ConsistencyLine(set);
  if (set.before) out += oversight::RecordLine(*set.before, "before");
  for (const auto& r : set.records) out += oversight::RecordLine(r, "record");
  if (set.after) out += oversight::RecordLine(*set.after, "after");
  s.Add("pulled_set", 0, out);
  s.Add("pulled_set", 1, oversight::TreeHeadJson(set.head));
}

void Answers(Seeds& s) {
  v1::SealedAnswer inner;
  inner.set_exchange_id("x1");
  inner.set_provider_code("MUN");
  inner.set_inquirer_code("PEN");
  inner.set_outcome(v1::OUTCOME_PROVIDED);
  inner.set_payload("local tax 2026: 123,400 JPY");
  s.Add("peer_answer", 1, inner.SerializeAsString());
  inner.set_exchange_id("x2");
  s.Add("peer_answer", 1, inner.SerializeAsString());
  const CurveKeyPair mun = CurveKeyPair::Generate(), pen = CurveKeyPair::Generate();
  interface::PeerDirectory at_mun(&mun);
  (void)at_mun.Vouch(interface::testing::Peer("PEN", pen));
  v1::Answer answer;
  if (interface::SealAnswer(at_mun, {"x1", "MUN", "PEN", v1::OUTCOME_PROVIDED, "p"}, &answer)
          .ok()) {
    s.Add("peer_answer", 0, answer.SerializeAsString());
  }
}

void Envelopes(Seeds& s) {
  auto add = [&](uint8_t from, const v1::Envelope& e) {
    v1::Envelope copy = e;
    copy.set_protocol_version(v1::PROTOCOL_VERSION_1);
    s.Add("core_envelope", from, copy.SerializeAsString());
  };
  // From PEN-0001 (selector 0): a lawful inquiry about person A, as the demo's first one.
  v1::Envelope q;
  q.set_request_id("r1");
  q.mutable_inquiry()->set_inquirer_symbol("A");
  q.mutable_inquiry()->set_business_code("np-benefit");
  q.mutable_inquiry()->set_provider_code("MUN-131016");
  q.mutable_inquiry()->set_item_code("local-tax");
  (*q.mutable_inquiry()->mutable_parameters())["fiscal_year"] = "2026";
  add(0, q);
  q.mutable_inquiry()->set_item_code("resident-record");
  q.set_request_id("r2");
  add(0, q);
  // From MUN-131016 (selector 1): the outcome of x1; from PEN: its receipt.
  v1::Envelope o;
  o.set_request_id("x1");
  o.mutable_provision_outcome()->set_exchange_id("x1");
  o.mutable_provision_outcome()->set_outcome(v1::OUTCOME_PROVIDED);
  add(1, o);
  o.mutable_provision_outcome()->set_non_disclosure(true);
  add(1, o);
  v1::Envelope r;
  r.set_request_id("r1");
  r.mutable_receipt()->set_exchange_id("x1");
  r.mutable_receipt()->set_received(true);
  r.mutable_receipt()->set_outcome(v1::OUTCOME_PROVIDED);
  add(0, r);
  v1::Envelope h;
  h.set_request_id("hello");
  h.mutable_hello()->set_answer_endpoint("tcp://127.0.0.1:7001");
  add(2, h);
  v1::Envelope query;
  query.set_request_id("q1");
  query.mutable_record_query()->set_agency_code("PEN-0001");
  query.mutable_record_query()->set_page_size(100);
  add(7, query);
  v1::Envelope ping;
  ping.set_request_id("p");
  ping.mutable_ping();
  add(3, ping);
}

void PortalRequests(Seeds& s) {
  s.Add(
      "portal_request", 0,
      R"({"public_key":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","challenge":)"
      R"("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","signature":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)"
      R"(AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})");
  s.Add("portal_request", 0, R"({"resident_code":"12345678901","public_key":"AAAA"})");
  // A card's answer (enrolment and log-in): challenge, certificate (DER), signature.
  s.Add("portal_request", 0,
        R"({"challenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","certificate":"MAMCAQE",)"
        R"("signature":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)"
        R"(AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})");
  s.Add("portal_request", 1,
        std::string("theme=dark; ipn_session=abcdefghijklmnopqrstu", 44) + std::string(1, '\0') +
            "Bearer vwxyzABCDEFGHIJKLMNOPQ");
  s.Add("portal_request", 2, std::string("2026-01-01") + std::string(1, '\0') + "2026-11-30");
  s.Add("portal_request", 2, std::string("2026-02-31"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || sodium_init() < 0) {
    std::cerr << "usage: ipn_fuzz_seeds DIR\n";
    return 2;
  }
  Seeds seeds{fs::path(argv[1])};
  char pattern[] = "/tmp/ipn-fuzz-seeds-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return 1;
  const fs::path scratch(pattern);
  ResidentCodes(seeds);
  AgencySymbols(seeds);
  Records(seeds);
  Thresholds(seeds);
  PolicySeeds(seeds);
  KeyFiles(seeds, scratch);
  PulledSets(seeds, scratch);
  Answers(seeds);
  Envelopes(seeds);
  PortalRequests(seeds);
  fs::remove_all(scratch);
  return 0;
}
