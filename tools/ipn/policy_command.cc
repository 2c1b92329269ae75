// `ipn policy`: the policy administrator's commands — keygen, compile, sign, verify — and
// `explain`, which answers "may agency X ask agency Y for item Z for business W on day D?"
// in words, citing the permitted-link row. Exit codes: 0 success / allowed, 1 failure /
// denied, 2 usage error.
#include <sodium.h>

#include <cstdio>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "policy/bundle.h"
#include "policy/compiler.h"
#include "policy/demo_policy.h"
#include "policy/jst_date.h"
#include "policy/policy.h"
#include "policy/policy_store.h"
#include "policy/two_person.h"
#include "tools/ipn/approval_file.h"
#include "tools/ipn/commands.h"
#include "tools/ipn/token_options.h"

namespace ipn::cli {
namespace {

constexpr int kUsageError = 2;

int Fail(const Status& status) {
  std::fprintf(stderr, "ipn policy: %s\n", status.ToString().c_str());
  return 1;
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "ipn policy: %s (see --help)\n", message.c_str());
  return kUsageError;
}

std::string Names(const std::string& ja, const std::string& en) {
  if (ja.empty() && en.empty()) return "";
  if (ja.empty() || en.empty()) return " (" + ja + en + ")";
  return " (" + ja + ", " + en + ")";
}

std::string DescribeAgency(const policy::Policy& p, const std::string& code) {
  const policy::Agency* a = p.FindAgency(code);
  if (a == nullptr) return code + " (not in the agency directory)";
  return code + Names(a->name_ja, a->name_en);
}

std::string DescribeParty(const std::string& party, bool is_class, const std::string& asked) {
  if (is_class) return "\"" + party + "\" (a class; " + asked + " belongs to it)";
  return "\"" + party + "\" (that very agency)";
}

// ---- keygen ----
void RegisterKeygen(CLI::App& group, Context& ctx) {
  auto* cmd = group.add_subcommand("keygen", "Make a policy administrator's Ed25519 key pair");
  auto secret = std::make_shared<std::string>();
  auto pub = std::make_shared<std::string>();
  cmd->add_option("--secret-key", *secret, "Secret key file to create (0600; keep it offline)");
  cmd->add_option("--public-key", *pub, "Public key file to create (give it to the core)");
  cmd->callback([&ctx, secret, pub] {
    if (secret->empty() || pub->empty()) {
      ctx.exit_code = Usage("keygen needs --secret-key FILE and --public-key FILE");
      return;
    }
    const policy::AdminKeyPair pair = policy::GenerateAdminKeyPair();
    if (Status s = policy::WriteAdminKeyPair(pair, *secret, *pub); !s.ok()) {
      ctx.exit_code = Fail(s);
      return;
    }
    std::printf("admin public key %s\nwrote %s (secret) and %s (public)\n",
                HexEncode(pair.public_key).c_str(), secret->c_str(), pub->c_str());
    ctx.exit_code = 0;
  });
}

// ---- compile ----
void RegisterCompile(CLI::App& group, Context& ctx) {
  auto* cmd = group.add_subcommand(
      "compile",
      "Compile a policy source directory (CSV files, see docs/policy.md) to an "
      "unsigned bundle");
  struct Args {
    std::string source, output;
    uint64_t version = 0;
    bool demo = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--source", args->source,
                  "Source directory (agencies.csv, businesses.csv, "
                  "items.csv, links.csv)");
  cmd->add_flag("--demo", args->demo, "Compile the embedded demo policy (data/) instead");
  cmd->add_option("--version", args->version, "Bundle version (required; newer than in force)");
  cmd->add_option("--output", args->output, "Bundle file to write (required)");
  cmd->callback([&ctx, args] {
    if (args->source.empty() == !args->demo) {
      ctx.exit_code = Usage("compile needs exactly one of --source DIR or --demo");
      return;
    }
    if (args->version == 0 || args->output.empty()) {
      ctx.exit_code = Usage("compile needs --version N (N >= 1) and --output FILE");
      return;
    }
    Result<policy::PolicySource> source =
        args->demo ? Result<policy::PolicySource>(policy::DemoPolicySource())
                   : policy::ReadPolicySource(args->source);
    if (!source.ok()) {
      ctx.exit_code = Fail(source.status());
      return;
    }
    auto bundle = policy::CompilePolicy(*source, args->version);
    if (!bundle.ok()) {
      ctx.exit_code = Fail(bundle.status());
      return;
    }
    if (Status s = WriteFileAtomic(args->output, *bundle); !s.ok()) {
      ctx.exit_code = Fail(s);
      return;
    }
    std::printf("compiled policy version %llu to %s (unsigned; sign it with `ipn policy sign`)\n",
                static_cast<unsigned long long>(args->version), args->output.c_str());
    ctx.exit_code = 0;
  });
}

// ---- sign ----
void RegisterSign(CLI::App& group, Context& ctx) {
  auto* cmd = group.add_subcommand("sign", "Sign a compiled bundle with the admin secret key");
  struct Args {
    std::string bundle, key, output;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--bundle", args->bundle, "Bundle file (required)");
  cmd->add_option("--key", args->key, "Admin secret key file (required)");
  cmd->add_option("--output", args->output, "Signed bundle to write (default: in place)");
  cmd->callback([&ctx, args] {
    if (args->bundle.empty() || args->key.empty()) {
      ctx.exit_code = Usage("sign needs --bundle FILE and --key ADMIN_SECRET_KEY_FILE");
      return;
    }
    auto key = policy::ReadAdminSecretKey(args->key);
    if (!key.ok()) {
      ctx.exit_code = Fail(key.status());
      return;
    }
    auto file = ReadFile(args->bundle);
    if (!file.ok()) {
      ctx.exit_code = Fail(file.status());
      return;
    }
    auto signed_bundle = policy::SignBundle(AsBytes(*file), key->span());
    if (!signed_bundle.ok()) {
      ctx.exit_code = Fail(signed_bundle.status().WithContext(args->bundle));
      return;
    }
    const std::string& out = args->output.empty() ? args->bundle : args->output;
    if (Status s = WriteFileAtomic(out, *signed_bundle); !s.ok()) {
      ctx.exit_code = Fail(s);
      return;
    }
    std::printf("signed %s with admin key %s\n", out.c_str(),
                HexEncode(key->span().subspan(crypto_sign_SEEDBYTES)).c_str());
    ctx.exit_code = 0;
  });
}

// ---- approve ----
void RegisterApprove(CLI::App& group, Context& ctx) {
  auto* cmd = group.add_subcommand(
      "approve",
      "Add an operator's approval of loading a signed bundle (two-person rule: BUNDLE.approvals; "
      "its agency status changes: BUNDLE.agency_status.approvals)");
  struct Args {
    std::string bundle;
    std::string action = "policy_load";
    ApproverArgs approver;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--bundle", args->bundle, "The signed bundle to be loaded")->required();
  cmd->add_option("--action", args->action,
                  "What is approved: policy_load (policy officers) or agency_status (agency "
                  "registrars: the bundle's changes of agency status)")
      ->check(CLI::IsMember({"policy_load", "agency_status"}))
      ->capture_default_str();
  AddApproverOptions(*cmd, args->approver);
  cmd->callback([&ctx, args] {
    const std::string approvals =
        args->bundle +
        (args->action == "policy_load" ? ".approvals" : "." + args->action + ".approvals");
    Result<size_t> count = AddApproval(args->approver, args->action, args->bundle, approvals);
    if (!count.ok()) {
      ctx.exit_code = Fail(count.status());
      return;
    }
    std::printf("%s approves %s of %s (%zu approval(s) in %s)\n",
                args->approver.operator_id.c_str(), args->action.c_str(), args->bundle.c_str(),
                *count, approvals.c_str());
    ctx.exit_code = 0;
  });
}

// ---- verify ----
void RegisterVerify(CLI::App& group, Context& ctx) {
  auto* cmd = group.add_subcommand(
      "verify", "Check a bundle's signature and contents as the core would load it");
  struct Args {
    std::string bundle, admin_key;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--bundle", args->bundle, "Signed bundle file (required)");
  cmd->add_option("--admin-key", args->admin_key, "Admin public key file (required)");
  cmd->callback([&ctx, args] {
    if (args->bundle.empty() || args->admin_key.empty()) {
      ctx.exit_code = Usage("verify needs --bundle FILE and --admin-key PUBLIC_KEY_FILE");
      return;
    }
    auto key = policy::ReadAdminPublicKey(args->admin_key);
    if (!key.ok()) {
      ctx.exit_code = Fail(key.status());
      return;
    }
    policy::PolicyStore store(*key);
    if (Status s = store.LoadFile(args->bundle); !s.ok()) {
      ctx.exit_code = Fail(s);
      return;
    }
    const auto p = store.Current();
    std::printf(
        "OK: %s is policy version %llu, signed by admin key %s\n"
        "    %zu agencies, %zu businesses, %zu items, %zu permitted links; source digest %s\n",
        args->bundle.c_str(), static_cast<unsigned long long>(p->version()),
        HexEncode(*key).c_str(), p->agencies().size(), p->businesses().size(), p->items().size(),
        p->links().size(), HexEncode(p->source_digest()).c_str());
    ctx.exit_code = 0;
  });
}

// ---- explain ----
void PrintExplanation(const policy::Policy& p, const policy::Decision& d,
                      const std::string& inquirer, const std::string& business,
                      const std::string& provider, const std::string& item, const std::string& day,
                      const std::string& origin) {
  const policy::NamedCode* b = p.FindBusiness(business);
  const policy::NamedCode* i = p.FindItem(item);
  std::printf("Question: may %s\n", DescribeAgency(p, inquirer).c_str());
  std::printf("          ask %s\n", DescribeAgency(p, provider).c_str());
  std::printf("          for item \"%s\"%s\n", item.c_str(),
              i ? Names(i->name_ja, i->name_en).c_str() : " (not a known item)");
  std::printf("          for business \"%s\"%s\n", business.c_str(),
              b ? Names(b->name_ja, b->name_en).c_str() : " (not a known business)");
  std::printf("          on %s (JST)?\n", day.c_str());

  const policy::PermittedLink* row = nullptr;
  for (const auto& link : p.links()) {
    if (link.row == d.row) row = &link;
  }
  if (d.allowed) {
    std::printf("Answer:   yes, ALLOWED.\n");
  } else {
    std::printf("Answer:   no, DENIED (%s).\n", policy::DenyReasonName(d.reason));
  }
  if (!d.allowed) std::printf("Because:  %s\n", d.Explain().c_str());
  if (row != nullptr) {
    std::printf("Row:      links.csv row %d\n", row->row);
    std::printf("          inquirer %s\n",
                DescribeParty(row->inquirer, row->inquirer_is_class, inquirer).c_str());
    std::printf("          provider %s\n",
                DescribeParty(row->provider, row->provider_is_class, provider).c_str());
    std::printf("          effective %s to %s (JST calendar days, inclusive)%s\n",
                row->effective_from.c_str(),
                row->effective_to.empty() ? "open-ended" : row->effective_to.c_str(),
                d.allowed ? "" : ", which does not include that day");
    std::printf("          legal basis: %s\n", row->legal_basis.empty()
                                                   ? "not recorded in the policy source"
                                                   : row->legal_basis.c_str());
    if (!row->note.empty()) std::printf("          note: %s\n", row->note.c_str());
  }
  std::printf("Policy:   version %llu (%s)\n", static_cast<unsigned long long>(p.version()),
              origin.c_str());
}

void RegisterExplain(CLI::App& group, Context& ctx) {
  auto* cmd = group.add_subcommand(
      "explain", "Say whether an inquiry is permitted, and why (exit 0 allowed, 1 denied)");
  struct Args {
    std::string inquirer, business, provider, item, at, bundle, admin_key;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--inquirer", args->inquirer, "Inquiring agency code (required)");
  cmd->add_option("--business", args->business, "Business code (required)");
  cmd->add_option("--provider", args->provider, "Providing agency code (required)");
  cmd->add_option("--item", args->item, "Item code (required)");
  cmd->add_option("--at", args->at, "Day to ask about, YYYY-MM-DD in JST (default: today)");
  cmd->add_option("--bundle", args->bundle,
                  "Signed bundle to ask (default: the embedded demo policy)");
  cmd->add_option("--admin-key", args->admin_key, "Admin public key file (with --bundle)");
  cmd->callback([&ctx, args] {
    if (args->inquirer.empty() || args->business.empty() || args->provider.empty() ||
        args->item.empty()) {
      ctx.exit_code = Usage("explain needs --inquirer, --business, --provider and --item");
      return;
    }
    if (args->bundle.empty() != args->admin_key.empty()) {
      ctx.exit_code = Usage("--bundle and --admin-key go together");
      return;
    }
    int64_t at = SystemClock().NowMicros();
    if (!args->at.empty()) {
      auto day = policy::JstDayStartMicros(args->at);
      if (!day.ok()) {
        ctx.exit_code = Usage("--at: " + day.status().message());
        return;
      }
      at = *day + policy::kMicrosPerDay / 2;  // noon JST: any time that day decides alike
    }

    std::unique_ptr<policy::PolicyStore> store;
    std::string origin;
    if (args->bundle.empty()) {
      // The embedded demo policy, signed here with a throwaway key and loaded like any other.
      policy::AdminKeyPair key = policy::GenerateAdminKeyPair();
      auto bundle = policy::BuildDemoBundle({}, 1, key.secret_key.span());
      if (!bundle.ok()) {
        ctx.exit_code = Fail(bundle.status());
        return;
      }
      store = std::make_unique<policy::PolicyStore>(key.public_key);
      if (Status s = store->Load(*bundle); !s.ok()) {
        ctx.exit_code = Fail(s);
        return;
      }
      origin = "the embedded demo policy, data/";
    } else {
      auto key = policy::ReadAdminPublicKey(args->admin_key);
      if (!key.ok()) {
        ctx.exit_code = Fail(key.status());
        return;
      }
      store = std::make_unique<policy::PolicyStore>(*key);
      if (Status s = store->LoadFile(args->bundle); !s.ok()) {
        ctx.exit_code = Fail(s);
        return;
      }
      origin = args->bundle + ", signature verified";
    }
    const auto p = store->Current();
    const policy::Decision d =
        p->Check(args->inquirer, args->business, args->provider, args->item, at);
    PrintExplanation(*p, d, args->inquirer, args->business, args->provider, args->item,
                     policy::JstDateOf(at), origin);
    ctx.exit_code = d.allowed ? 0 : 1;
  });
}

}  // namespace

void RegisterPolicyCommand(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand(
      "policy", "Permitted-link policy: keygen, compile, sign, verify, approve, explain");
  group->require_subcommand(1);
  RegisterKeygen(*group, ctx);
  RegisterCompile(*group, ctx);
  RegisterSign(*group, ctx);
  RegisterVerify(*group, ctx);
  RegisterApprove(*group, ctx);
  RegisterExplain(*group, ctx);
}

}  // namespace ipn::cli
