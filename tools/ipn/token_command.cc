// `ipn token`: keys in PKCS#11 tokens (SoftHSM2 stands in for HSMs and operators' tokens).
//   list          the token's objects: label, kind, whether they can ever leave it
//   keygen        an Ed25519 key generated inside the token (an operator's approval key);
//                 prints the public key for the operator roster
//   protect-ring  moves the core's key ring under the token: a key-encryption key made in
//                 the token wraps the ring's file key, and the records signing key is put
//                 into the token, so the core signs tree heads there. From then on the
//                 passphrase no longer opens the ring; the token and its PIN do.
// The PIN comes from IPN_TOKEN_PIN or a prompt. Tokens are initialised with the vendor's
// tool (softhsm2-util --init-token); docs/security.md has the whole procedure.
#include <cstdio>
#include <memory>
#include <string>

#include "common/encoding.h"
#include "symbol/key_ring_file.h"
#include "symbol/symbol_service.h"
#include "token/pkcs11_token.h"
#include "tools/ipn/commands.h"
#include "tools/ipn/key_ring_session.h"
#include "tools/ipn/token_options.h"

namespace ipn::cli {
namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "ipn token: %s\n", s.ToString().c_str());
  return 1;
}

struct TokenArgs {
  std::string module = token::kSoftHsmModule;
  std::string token;
  std::string label;
  std::string dir;
  std::string kek_label = token::kDefaultKekLabel;
  // The core looks for the records signing key under this label; fixed, not an option.
  std::string signing_label = token::kDefaultRecordsSigningLabel;
};

void AddAddress(CLI::App& cmd, TokenArgs& a) {
  cmd.add_option("--token", a.token, "The token's label")->required();
  cmd.add_option("--module", a.module, "PKCS#11 module")->capture_default_str();
}

int RunList(const TokenArgs& a) {
  auto opened = OpenToken({a.module, a.token});
  if (!opened.ok()) return Fail(opened.status());
  auto objects = (*opened)->List();
  if (!objects.ok()) return Fail(objects.status());
  std::printf("%-28s %-16s %-10s %s\n", "LABEL", "KIND", "LEAVES", "PUBLIC KEY");
  for (const token::TokenObject& o : *objects) {
    const bool stays = o.sensitive && !o.extractable;
    std::printf("%-28s %-16s %-10s %s\n", o.label.c_str(), o.kind.c_str(),
                o.kind == "ed25519-public" ? "-" : (stays ? "never" : "CAN"),
                o.public_key ? HexEncode(*o.public_key).c_str() : "");
  }
  return 0;
}

int RunKeygen(const TokenArgs& a) {
  auto opened = OpenToken({a.module, a.token});
  if (!opened.ok()) return Fail(opened.status());
  auto public_key = (*opened)->GenerateEd25519(a.label);
  if (!public_key.ok()) return Fail(public_key.status());
  std::fprintf(stderr,
               "generated Ed25519 key %s inside token %s; it never leaves the token. Its public "
               "key (for the operator roster):\n",
               a.label.c_str(), a.token.c_str());
  std::printf("%s\n", HexEncode(*public_key).c_str());
  return 0;
}

// The ring's records signing key, in the token: imported once; if the token already has a
// key under that label it must be the same key (a second site's token, a rerun).
Status PutSigningKey(token::Pkcs11Token& t, const symbol::RecordKeys& keys,
                     const std::string& label) {
  auto existing = t.FindEd25519(label);
  if (existing.ok()) {
    if (*existing != keys.signing_public_key) {
      return Status::FailedPrecondition(
          "token " + t.address().token + " holds another key as " + label +
          "; that label is the core's records signing key (move the other "
          "key away, or use another token)");
    }
    return Status::Ok();
  }
  if (existing.status().code() != Status::Code::kNotFound) return existing.status();
  auto imported = t.ImportEd25519(label, keys.signing_secret_key);
  return imported.ok() ? Status::Ok() : imported.status();
}

int RunProtectRing(const TokenArgs& a) {
  const std::string ring_path = a.dir + "/" + symbol::SymbolService::kKeyRingFileName;
  auto protection = symbol::KeyRingFile::DescribeProtection(ring_path);
  if (!protection.ok()) return Fail(protection.status());
  if (*protection != "passphrase") {
    return Fail(Status::FailedPrecondition("the key ring " + ring_path +
                                           " is already protected by " + *protection));
  }
  auto session = OpenKeyRingSession(a.dir, "ipn-token");
  if (!session.ok()) return Fail(session.status());
  auto opened = OpenToken({a.module, a.token});
  if (!opened.ok()) return Fail(opened.status());
  token::Pkcs11Token& t = **opened;
  bool made_kek = false;
  if (Status kek = t.GenerateKek(a.kek_label); kek.ok()) {
    made_kek = true;
  } else if (kek.code() != Status::Code::kAlreadyExists) {
    return Fail(kek);
  }
  auto keys = session->service->GetRecordKeys();
  if (!keys.ok()) return Fail(keys.status());
  if (Status s = PutSigningKey(t, *keys, a.signing_label); !s.ok()) return Fail(s);
  auto wrapper = t.MakeWrapper(a.kek_label);
  if (!wrapper.ok()) return Fail(wrapper.status());
  if (Status s = session->service->ProtectWith(**wrapper); !s.ok()) return Fail(s);
  if (session->log) {
    session->log->Info("token.protect_ring", {{"dir", a.dir}, {"by", (*wrapper)->Describe()}});
  }
  std::printf(
      "the key ring %s is now protected by %s (%s key-encryption key); the records signing "
      "key %s is in the token as %s.\nStart ipn-core with IPN_TOKEN_PIN (or type the PIN); the "
      "passphrase no longer opens this ring.\n",
      ring_path.c_str(), (*wrapper)->Describe().c_str(), made_kek ? "a new" : "the token's",
      HexEncode(keys->signing_public_key).c_str(), a.signing_label.c_str());
  return 0;
}

}  // namespace

void RegisterTokenCommand(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("token", "Keys in PKCS#11 tokens (HSMs; SoftHSM2 in tests)");
  group->require_subcommand(1);
  auto args = std::make_shared<TokenArgs>();

  auto* list = group->add_subcommand("list", "The token's objects and whether they can leave it");
  AddAddress(*list, *args);
  list->callback([&ctx, args] { ctx.exit_code = RunList(*args); });

  auto* keygen = group->add_subcommand(
      "keygen", "Generate an Ed25519 key inside the token; print its public key");
  AddAddress(*keygen, *args);
  keygen->add_option("--label", args->label, "The new key's label")->required();
  keygen->callback([&ctx, args] { ctx.exit_code = RunKeygen(*args); });

  auto* protect =
      group->add_subcommand("protect-ring",
                            "Put the core's key ring under the token's key-encryption key and its "
                            "records signing key into the token");
  AddAddress(*protect, *args);
  protect->add_option("--dir", args->dir, "The key ring's directory (the core's symbols/)")
      ->required();
  protect->add_option("--kek-label", args->kek_label, "Label of the key-encryption key")
      ->capture_default_str();
  protect->callback([&ctx, args] { ctx.exit_code = RunProtectRing(*args); });
}

}  // namespace ipn::cli
