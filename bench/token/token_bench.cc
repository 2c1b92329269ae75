// Keys in a PKCS#11 token (issue #15): what signing a tree head costs inside SoftHSM2
// against libsodium on a key in memory, and what unwrapping the key ring's file key costs
// at start. The token is created for the run in a temporary directory
// (softhsm2-util --init-token, as docs/security.md describes); SOFTHSM2_CONF points there.
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "records/tree_head.h"
#include "token/pkcs11_token.h"

namespace {

constexpr char kPin[] = "4729";

// One token for the whole run, made before the module is first loaded.
struct BenchToken {
  std::string dir;
  std::shared_ptr<ipn::token::Pkcs11Token> token;
  ipn::SecretBytes secret_key{crypto_sign_SECRETKEYBYTES};

  BenchToken() {
    char tmpl[] = "/tmp/ipn-bench-token-XXXXXX";
    dir = mkdtemp(tmpl);
    std::filesystem::create_directories(dir + "/tokens");
    std::ofstream(dir + "/softhsm2.conf") << "directories.tokendir = " << dir
                                          << "/tokens\nobjectstore.backend = file\n"
                                             "log.level = ERROR\n";
    setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
    const std::string init = "softhsm2-util --init-token --free --label bench --pin " +
                             std::string(kPin) + " --so-pin 90210 >/dev/null";
    if (std::system(init.c_str()) != 0) std::abort();
    auto opened = ipn::token::Pkcs11Token::Open({ipn::token::kSoftHsmModule, "bench"}, kPin);
    if (!opened.ok()) std::abort();
    token = *opened;
    ipn::Ed25519PublicKey pk;
    crypto_sign_keypair(pk.data(), secret_key.data());
    if (!token->ImportEd25519(ipn::token::kDefaultRecordsSigningLabel, secret_key).ok() ||
        !token->GenerateKek(ipn::token::kDefaultKekLabel).ok()) {
      std::abort();
    }
  }
  ~BenchToken() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

BenchToken& Token() {
  static BenchToken t;
  return t;
}

void SignHead(benchmark::State& state, const ipn::Ed25519Signer& signer) {
  ipn::records::Hash root{};
  randombytes_buf(root.data(), root.size());
  uint64_t size = 1;
  for (auto _ : state) {
    auto head = ipn::records::SignTreeHead(size++, root, 1'700'000'000'000'000, signer);
    if (!head.ok()) state.SkipWithError("signing failed");
    benchmark::DoNotOptimize(head);
  }
}

void TreeHeadSignSodium(benchmark::State& state) {
  auto signer = ipn::MakeSodiumSigner(Token().secret_key.Clone());
  SignHead(state, **signer);
}

void TreeHeadSignToken(benchmark::State& state) {
  auto signer = Token().token->MakeSigner(ipn::token::kDefaultRecordsSigningLabel);
  if (!signer.ok()) {
    state.SkipWithError(signer.status().ToString().c_str());
    return;
  }
  SignHead(state, **signer);
}

// What a core start pays for a token-protected key ring: one unwrap inside the token.
void KeyRingFileKeyUnwrap(benchmark::State& state) {
  auto wrapped = Token().token->WrapKey(ipn::token::kDefaultKekLabel, ipn::SecretBytes::Random(32));
  if (!wrapped.ok()) std::abort();
  const std::span<const uint8_t> w(reinterpret_cast<const uint8_t*>(wrapped->data()),
                                   wrapped->size());
  for (auto _ : state) {
    auto key = Token().token->UnwrapKey(ipn::token::kDefaultKekLabel, w);
    if (!key.ok()) state.SkipWithError("unwrap failed");
    benchmark::DoNotOptimize(key);
  }
}

BENCHMARK(TreeHeadSignSodium)->Unit(benchmark::kMicrosecond);
BENCHMARK(TreeHeadSignToken)->Unit(benchmark::kMicrosecond);
BENCHMARK(KeyRingFileKeyUnwrap)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
