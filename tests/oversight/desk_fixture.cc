// ipn_desk_fixture: the commission's desk over a real core record store, for the desk's
// browser test (tests/browser/desk_test.mjs). It writes the world of
// tests/oversight/desk_world.h into a record store, a full pull of it as `ipn oversight
// pull` writes one (the test's yardstick, computed apart from the desk), the planted
// anomalies' records and a signed tariff; then serves the desk (the same DeskService and
// DeskServer as `ipn oversight desk`, pulling from the store through the core's
// RecordAccess) and obeys commands on standard input:
//   append N            N more exchanges are recorded                  → "appended N"
//   append-tampered N   the same, and before any pull can see them an insider rewrites
//                       the last of their records in the core's store  → "tampered SEQ"
//   quit
//
//   ipn_desk_fixture --dir DIR   (writes DIR/ready.json once serving)
#include <sodium.h>

#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/file_util.h"
#include "core/record_access.h"
#include "oversight/desk_server.h"
#include "oversight/pulled_set.h"
#include "policy/demo_policy.h"
#include "records/record_cipher.h"
#include "records/record_codec.h"
#include "tests/oversight/desk_world.h"
#include "tests/records/record_test_util.h"

namespace ipn::oversight {
namespace {

using records::testing::TestKeys;

int Fail(const std::string& what) {
  std::cerr << "ipn_desk_fixture: " << what << "\n";
  return 1;
}

// The core's store, reopened around an insider's change; pulls wait meanwhile.
class CoreSide : public RecordSource {
 public:
  CoreSide(std::string dir, TestKeys* keys) : dir_(std::move(dir)), keys_(keys) {}
  Status Open() {
    Result<std::unique_ptr<records::RecordStore>> s =
        records::RecordStore::Open(keys_->Options(dir_));
    if (!s.ok()) return s.status();
    store_ = std::move(*s);
    return Status::Ok();
  }
  Result<v1::RecordPage> Query(const v1::RecordQuery& q) override {
    std::lock_guard lock(mu_);
    core::RecordAccess access(store_.get(), nullptr, nullptr, nullptr, nullptr);
    return access.SequencePull(q);
  }
  Result<v1::RecordPage> TimePull(const v1::RecordQuery& q) {
    std::lock_guard lock(mu_);
    core::RecordAccess access(store_.get(), nullptr, nullptr, nullptr, nullptr);
    return access.Pull(q);
  }
  Status Append(std::span<const records::Record> rs, bool tamper_last) {
    std::lock_guard lock(mu_);
    for (records::Record r : rs) IPN_RETURN_IF_ERROR(store_->Append(r));
    return tamper_last && !rs.empty() ? Rewrite(rs.back().sequence, rs.back()) : Status::Ok();
  }

 private:
  // An insider holding the records' key rewrites one record's outcome.
  Status Rewrite(uint64_t seq, const records::Record& original) {
    store_.reset();
    {
      std::unique_ptr<records::testing::RawDb> raw = records::testing::OpenRaw(dir_);
      if (!raw) return Status::IoError("cannot open the store's RocksDB");
      records::Record changed = original;
      changed.outcome = "NO_SUCH_LINK";
      std::string body;
      records::AppendBody(changed, body);
      std::vector<std::pair<uint32_t, SecretBytes>> ks;
      ks.emplace_back(1, keys_->encryption_key.Clone());
      Result<records::RecordCipher> cipher = records::RecordCipher::Create(std::move(ks));
      if (!cipher.ok()) return cipher.status();
      rocksdb::WriteBatch b;
      b.Put(raw->records(), records::SequenceKey(seq),
            cipher->Seal(seq, changed.time_unix_us, changed.record_symbol, body));
      if (!raw->db->Write(rocksdb::WriteOptions(), &b).ok()) return Status::IoError("write");
    }
    Result<std::unique_ptr<records::RecordStore>> s =
        records::RecordStore::Open(keys_->Options(dir_));
    if (!s.ok()) return s.status();
    store_ = std::move(*s);
    return Status::Ok();
  }

  const std::string dir_;
  TestKeys* keys_;
  std::mutex mu_;
  std::unique_ptr<records::RecordStore> store_;
};

Status WritePull(CoreSide& core, const std::string& path) {
  PulledSet set;
  set.from_unix_us = 1'767'193'200'000'000;  // 2026-01-01 JST
  set.to_unix_us = 1'798'729'200'000'000;    // 2027-01-01 JST
  v1::RecordQuery q;
  q.set_from_unix_us(set.from_unix_us);
  q.set_to_unix_us(set.to_unix_us);
  q.set_page_size(1000);
  std::ofstream out(path);
  for (bool first = true;; first = false) {
    Result<v1::RecordPage> page = core.TimePull(q);
    if (!page.ok()) return page.status();
    PulledSet one;
    IPN_RETURN_IF_ERROR(AddPage(*page, &one));
    if (first) {
      set.head = one.head;
      out << PullLine(set);
    }
    for (const PulledRecord& r : one.records) out << RecordLine(r, "record");
    if (page->next_page_token().empty()) break;
    q.set_page_token(page->next_page_token());
  }
  out.flush();
  return out ? Status::Ok() : Status::IoError("cannot write " + path);
}

nlohmann::json FlagJson(const testing::PlantedFlag& f) {
  return {{"rule", f.rule}, {"agency", f.agency}, {"sequences", f.sequences}};
}

int Run(const std::string& dir) {
  if (sodium_init() < 0) return Fail("libsodium");
  TestKeys keys;
  const testing::DeskWorld world = testing::MakeDeskWorld();
  CoreSide core(dir + "/records", &keys);
  if (Status s = core.Open(); !s.ok()) return Fail(s.ToString());
  if (Status s = core.Append(world.records, false); !s.ok()) return Fail(s.ToString());
  if (Status s = WritePull(core, dir + "/pull.jsonl"); !s.ok()) return Fail(s.ToString());
  nlohmann::json planted = {{"volume", FlagJson(world.volume)},
                            {"person_focus", FlagJson(world.person_focus)},
                            {"off_hours", FlagJson(world.off_hours)}};
  if (!WriteFileAtomic(dir + "/planted.json", planted.dump(1)).ok()) return Fail("planted.json");

  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> admin_pk{};
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> admin_sk{};
  crypto_sign_keypair(admin_pk.data(), admin_sk.data());
  Result<std::string> tariff_text = SignTariff(testing::kDeskTariffText, admin_sk);
  if (!tariff_text.ok()) return Fail(tariff_text.status().ToString());
  if (!WriteFileAtomic(dir + "/tariff.txt", *tariff_text).ok()) return Fail("tariff.txt");
  Result<Tariff> tariff = ParseSignedTariff(*tariff_text, admin_pk);
  if (!tariff.ok()) return Fail(tariff.status().ToString());

  const records::PublicKey records_key =
      records::SigningPublicKey(keys.signing.signing_secret_key.span()).value();
  DeskStoreOptions so;
  so.dir = dir + "/desk/store";
  so.data_key = SecretBytes::Random(32);
  so.records_key = records_key;
  Result<std::unique_ptr<DeskStore>> store = DeskStore::Open(std::move(so));
  if (!store.ok()) return Fail(store.status().ToString());
  Result<std::unique_ptr<DeskCases>> cases = DeskCases::Open(dir + "/desk/cases.json");
  if (!cases.ok()) return Fail(cases.status().ToString());
  SystemClock clock;
  Result<std::unique_ptr<DeskAudit>> audit =
      DeskAudit::Open(dir + "/desk/audit.log", 1 << 30, &clock);
  if (!audit.ok()) return Fail(audit.status().ToString());
  Result<std::shared_ptr<const policy::Policy>> policy = policy::LoadDemoPolicy();
  if (!policy.ok()) return Fail(policy.status().ToString());

  uint8_t pw_bytes[12];
  randombytes_buf(pw_bytes, sizeof pw_bytes);
  const std::string password = Base64UrlEncode(pw_bytes);
  const SecretBytes totp = SecretBytes::Random(20);
  Result<std::string> line = InvestigatorLine("inspector", password, totp.span());
  if (!line.ok()) return Fail(line.status().ToString());
  Result<std::vector<Investigator>> accounts = ParseInvestigators(*line + "\n");
  if (!accounts.ok()) return Fail(accounts.status().ToString());
  DeskAuth auth(std::move(*accounts), &clock);

  DeskServiceOptions o;
  o.store = store->get();
  o.source = &core;
  o.cases = cases->get();
  o.audit = audit->get();
  o.clock = &clock;
  o.hours = DeclaredHours(**policy);
  o.anomaly_lookback_us = 100 * 86'400'000'000LL;  // the whole quarter
  o.tariff = *tariff;
  DeskService service(std::move(o));
  if (Result<PullRound> r = service.PullNow(); !r.ok()) return Fail(r.status().ToString());

  std::unique_ptr<Logger> logger = Logger::Stderr("desk");
  DeskServerOptions web;
  web.service = &service;
  web.auth = &auth;
  web.audit = audit->get();
  web.names = *policy;
  web.records_key = records_key;
  web.logger = logger.get();
  web.clock = &clock;
  Result<std::unique_ptr<DeskServer>> server = DeskServer::Open(std::move(web));
  if (!server.ok()) return Fail(server.status().ToString());
  if (Status s = (*server)->Start(); !s.ok()) return Fail(s.ToString());
  service.StartTimer(2'000'000);
  nlohmann::json ready = {{"url", "http://127.0.0.1:" + std::to_string((*server)->port())},
                          {"name", "inspector"},
                          {"password", password},
                          {"totp_secret_hex", HexEncode(totp.span())},
                          {"records_key", HexEncode(records_key)},
                          {"records", world.records.size()}};
  if (!WriteFileAtomic(dir + "/ready.json", ready.dump(1)).ok()) return Fail("ready.json");

  uint64_t next = world.records.size();
  int64_t last_us = world.records.back().time_unix_us;
  std::string cmd;
  while (std::cin >> cmd) {
    if (cmd == "quit") break;
    uint64_t n = 0;
    if (!(std::cin >> n) || n == 0 || n > 10'000) return Fail("a command takes a count, 1..10000");
    if (cmd != "append" && cmd != "append-tampered") return Fail("unknown command " + cmd);
    const std::vector<records::Record> more =
        testing::MoreExchanges(last_us, static_cast<int>(n), next);
    if (Status s = core.Append(more, cmd == "append-tampered"); !s.ok()) return Fail(s.ToString());
    next += more.size();
    last_us = more.back().time_unix_us;
    if (cmd == "append") {
      std::cout << "appended " << n << std::endl;
    } else {
      std::cout << "tampered " << more.back().sequence << std::endl;
    }
  }
  service.StopTimer();
  (*server)->Stop();
  return 0;
}

}  // namespace
}  // namespace ipn::oversight

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--dir") {
    std::cerr << "usage: ipn_desk_fixture --dir DIR\n";
    return 2;
  }
  return ipn::oversight::Run(argv[2]);
}
