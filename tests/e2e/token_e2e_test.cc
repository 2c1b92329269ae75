// Keys in a token on a running network (issue #15): the core's key ring moved into a
// SoftHSM2 token with `ipn token protect-ring`, the core started with the token's PIN, tree
// heads signed inside the token; a core without its token, or with a wrong PIN, refuses to
// start and says why; and operators whose approval keys live in their own tokens.
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "common/encoding.h"
#include "common/file_util.h"
#include "policy/demo_policy.h"
#include "records/tree_head.h"
#include "symbol/key_ring_file.h"
#include "symbol/symbol_service.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/support/softhsm.h"
#include "token/pkcs11_token.h"
#include "tools/localnet/child_process.h"

namespace ipn::testing {
namespace {

constexpr char kReg[] = "REG-0001";
constexpr char kMun[] = "MUN-131016";
constexpr char kPen[] = "PEN-0001";

std::string Hex(std::span<const uint8_t> bytes) {
  return HexEncode(bytes);
}

// Starts ipn-core by hand on the network's files, as an operator would after a restart,
// with `pin` as IPN_TOKEN_PIN; returns why it did not become ready (empty if it did).
std::string StartCoreWithPin(const std::string& net_dir, const std::string& pin) {
  Result<std::string> admin = ReadFile(net_dir + "/policy/admin.pub");
  if (!admin.ok()) return "no admin.pub";
  const std::string core = net_dir + "/core";
  Result<localnet::ChildProcess> p = localnet::ChildProcess::Start(
      {BinDir() + "/ipn-core", "--data-dir", core, "--bind", "tcp://127.0.0.1:*", "--key-file",
       core + "/core.key", "--policy", net_dir + "/policy/bundle.ipnp", "--admin-key",
       admin->substr(0, admin->find('\n')), "--log", core + "/restart.log", "--fast-kdf"},
      {{"IPN_TOKEN_PIN", pin}}, core + "/restart.stderr");
  if (!p.ok()) return p.status().ToString();
  auto ready = p->WaitReady(std::chrono::seconds(30));
  if (ready.ok()) {
    p->Stop();
    return "";
  }
  return ready.status().ToString();
}

TEST(TokenCoreE2eTest, TheCoreOpensItsKeyRingWithTheTokenAndSignsHeadsInIt) {
  TempDir hsm_dir;
  SoftHsm hsm(hsm_dir);
  ASSERT_TRUE(hsm.InitToken("core-east"));
  E2eNetwork n({kReg, kMun, kPen}, {}, "", 5.0, {}, [&](localnet::LocalNetworkOptions& o) {
    o.key_ring_token = "core-east";
    o.token_pin = kTestTokenPin;
  });
  ASSERT_FALSE(::testing::Test::HasFailure());
  // The passphrase no longer opens the ring: its header names the token.
  Result<std::string> ring = ReadFile(n.net().data_dir() + "/core/symbols/keyring.ipnk");
  ASSERT_TRUE(ring.ok());
  EXPECT_NE(ring->find("pkcs11:token=core-east;object=ipn-kek"), std::string::npos);

  // The network works: an exchange is brokered and recorded.
  int served = 0;
  for (int i = 0; i < 3; ++i) {
    const std::string code = ResidentCodeFrom("22345678" + std::to_string(10 + i));
    n.IssueSymbol(kMun, code, "ref-" + std::to_string(i));
    auto symbol = n.IssueSymbol(kPen, code, "ref-" + std::to_string(i));
    auto reply = n.Inquire(kPen, symbol, "np-benefit", kMun, "local-tax", "t-" + std::to_string(i));
    if (!reply.exchange_id.empty()) ++served;
  }
  EXPECT_EQ(served, 3);
  std::vector<records::Record> all = n.StopAndReadRecords();  // also verifies every head
  EXPECT_GE(all.size(), 12u);

  // Every head (the last one signed as the core stopped) is signed by the token's key.
  Result<Ed25519PublicKey> token_key = Status::NotFound("token");
  {
    auto token = token::Pkcs11Token::Open({token::kSoftHsmModule, "core-east"}, kTestTokenPin);
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    token_key = (*token)->FindEd25519(token::kDefaultRecordsSigningLabel);
    ASSERT_TRUE(token_key.ok());
  }  // closed: OpenRecords below opens the ring with the token again
  auto store = n.net().OpenRecords();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto heads = (*store)->TreeHeads();
  ASSERT_TRUE(heads.ok());
  ASSERT_FALSE(heads->empty());
  for (const records::SignedTreeHead& h : *heads) {
    EXPECT_EQ(h.signer, *token_key);
    EXPECT_TRUE(records::VerifyTreeHeadSignature(h, *token_key));
  }
  EXPECT_EQ(heads->back().tree_size, all.size());

  // No key of the ring appears in the clear in any file the run left, the token's own
  // files included (SoftHSM2 encrypts private objects under the PIN).
  auto symbols = n.net().OpenSymbols();
  ASSERT_TRUE(symbols.ok()) << symbols.status().ToString();
  auto keys = (*symbols)->GetRecordKeys();
  ASSERT_TRUE(keys.ok());
  std::vector<std::string> secrets;
  secrets.emplace_back(reinterpret_cast<const char*>(keys->signing_secret_key.data()), 32);
  for (const auto& [version, key] : keys->encryption) {
    secrets.emplace_back(reinterpret_cast<const char*>(key.data()), key.size());
  }
  for (const std::string& root : {n.dir(), hsm_dir.path()}) {
    for (const std::string& secret : secrets) {
      EXPECT_TRUE(FilesContaining(root, secret).empty())
          << "a ring key in the clear under " << root;
      EXPECT_TRUE(FilesContaining(
                      root, Hex(std::span<const uint8_t>(
                                reinterpret_cast<const uint8_t*>(secret.data()), secret.size())))
                      .empty());
    }
  }
}

TEST(TokenCoreE2eTest, WithoutItsTokenOrWithAWrongPinTheCoreRefusesToStart) {
  TempDir hsm_dir;
  SoftHsm hsm(hsm_dir);
  ASSERT_TRUE(hsm.InitToken("core-east"));
  E2eNetwork n({kReg, kMun}, {}, "", 5.0, {}, [&](localnet::LocalNetworkOptions& o) {
    o.key_ring_token = "core-east";
    o.token_pin = kTestTokenPin;
  });
  ASSERT_FALSE(::testing::Test::HasFailure());
  ASSERT_TRUE(n.net().Stop().ok());
  const std::string net_dir = n.net().data_dir();

  const std::string wrong = StartCoreWithPin(net_dir, "1111");
  EXPECT_NE(wrong.find("the PIN for token 'core-east' is wrong"), std::string::npos) << wrong;
  EXPECT_EQ(StartCoreWithPin(net_dir, kTestTokenPin), "");  // the right PIN still works

  // The token taken away: its directory moved out of SoftHSM2's token store.
  const std::string away = hsm_dir.Sub("away");
  std::filesystem::rename(hsm.token_dir(), away);
  std::filesystem::create_directories(hsm.token_dir());
  const std::string absent = StartCoreWithPin(net_dir, kTestTokenPin);
  EXPECT_NE(absent.find("no PKCS#11 token labelled 'core-east'"), std::string::npos) << absent;
  // And a passphrase does not open the ring instead.
  std::filesystem::remove_all(hsm.token_dir());
  std::filesystem::rename(away, hsm.token_dir());
  auto by_passphrase = symbol::KeyRingFile::Open(net_dir + "/core/symbols/keyring.ipnk",
                                                 n.net().key_ring_passphrase());
  ASSERT_FALSE(by_passphrase.ok()) << "the passphrase alone opened a token-protected ring";
  EXPECT_EQ(by_passphrase.status().code(), Status::Code::kFailedPrecondition);
}

// Operators' approval keys generated inside their own tokens (`ipn token keygen`), approvals
// signed there (`ipn policy approve --token`): one officer's token is not enough, two are.
TEST(OperatorTokenE2eTest, ApprovalsSignedInTwoOfficersTokensLoadAPolicy) {
  TempDir hsm_dir;
  SoftHsm hsm(hsm_dir);
  ASSERT_TRUE(hsm.InitToken("alice-token", "1357"));
  ASSERT_TRUE(hsm.InitToken("bob-token", "2468"));
  auto run = [](const std::string& command, std::string* out = nullptr) {
    std::string full = command + (out != nullptr ? "" : " >/dev/null") + " 2>/dev/null </dev/null";
    if (out == nullptr) {
      const int status = std::system(full.c_str());
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    FILE* p = popen(full.c_str(), "r");
    if (p == nullptr) return false;
    char buf[256];
    while (fgets(buf, sizeof(buf), p) != nullptr) *out += buf;
    return pclose(p) == 0;
  };
  std::string alice_pk, bob_pk;
  ASSERT_TRUE(run(
      "IPN_TOKEN_PIN=1357 " + BinDir() + "/ipn token keygen --token alice-token --label approval",
      &alice_pk));
  ASSERT_TRUE(
      run("IPN_TOKEN_PIN=2468 " + BinDir() + "/ipn token keygen --token bob-token --label approval",
          &bob_pk));
  alice_pk = alice_pk.substr(0, 64);
  bob_pk = bob_pk.substr(0, 64);
  ASSERT_EQ(alice_pk.size(), 64u);
  const std::string roster = hsm_dir.Sub("roster.txt");
  ASSERT_TRUE(WriteFileAtomic(roster, "operator alice policy_officer " + alice_pk +
                                          "\noperator bob policy_officer " + bob_pk +
                                          "\nrequire policy_load 2 policy_officer\n")
                  .ok());
  auto approve = [&](const std::string& bundle, const std::string& id, const std::string& pin) {
    return run("IPN_TOKEN_PIN=" + pin + " " + BinDir() + "/ipn policy approve --bundle " + bundle +
               " --operator " + id + " --token " + id + "-token --token-key approval")
               ? Status::Ok()
               : Status::Internal("approve failed");
  };
  E2eNetwork n({kReg, kMun}, {}, "", 5.0, {}, [&](localnet::LocalNetworkOptions& o) {
    o.operator_roster_file = roster;
    o.approve_first_bundle = [&](const std::string& b) {  // the first bundle too
      IPN_RETURN_IF_ERROR(approve(b, "alice", "1357"));
      return approve(b, "bob", "2468");
    };
  });
  ASSERT_FALSE(::testing::Test::HasFailure());
  policy::AgencyOverride suspend;
  suspend.status = policy::AgencyStatus::kSuspended;
  const std::map<std::string, policy::AgencyOverride> change = {{"MUN-401307", suspend}};
  // A wrong PIN signs nothing.
  ASSERT_TRUE(n.net()
                  .ChangePolicy(change,
                                [&](const std::string& b) -> Status {
                                  if (approve(b, "alice", "0000").ok()) {
                                    return Status::Internal("a wrong PIN signed an approval");
                                  }
                                  return approve(b, "alice", "1357");
                                })
                  .ok());
  ASSERT_TRUE(
      n.WaitForCoreMetric("ipn_core_policy_loads_refused_total", 1, std::chrono::seconds(10)));
  EXPECT_EQ(n.CoreMetric("ipn_core_policy_version"), 1);
  ASSERT_TRUE(n.net()
                  .ChangePolicy(change,
                                [&](const std::string& b) {
                                  IPN_RETURN_IF_ERROR(approve(b, "alice", "1357"));
                                  return approve(b, "bob", "2468");
                                })
                  .ok());
  ASSERT_TRUE(n.WaitForCoreMetric("ipn_core_policy_version", 3, std::chrono::seconds(10)));
  EXPECT_EQ(n.CoreMetric("ipn_core_policy_loads_refused_total"), 1);
}

}  // namespace
}  // namespace ipn::testing
