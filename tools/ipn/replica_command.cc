// `ipn replica`: the replica set of a replicated core (its sites) under the two-person
// rule (policy/start_config.h). Adding or removing a site is writing a new replica set
// file and having it approved by the operators the roster names for "replica_change"; a
// core given that file (`ipn-core --replica-set FILE`) starts with it only with those
// approvals, and records the change naming them.
//
//   ipn replica request --version 2 --sites east,west,witness --output sites.txt
//   ipn replica approve --set sites.txt --operator kim --token kim-token --token-key approval
//   ipn replica approve --set sites.txt --operator lee …
#include <cstdio>
#include <memory>

#include "common/file_util.h"
#include "policy/start_config.h"
#include "tools/ipn/approval_file.h"
#include "tools/ipn/commands.h"

namespace ipn::cli {
namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "ipn replica: %s\n", s.ToString().c_str());
  return s.code() == Status::Code::kInvalidArgument ? 2 : 1;
}

void RegisterRequest(CLI::App& group, Context& ctx) {
  auto* cmd = group.add_subcommand(
      "request", "Write a replica set file naming every site, for two operators to approve");
  struct Args {
    policy::ReplicaSet set;
    std::string output;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--version", args->set.version,
                  "The set's version: one more than the set in force (1 for the first)")
      ->required();
  cmd->add_option("--sites", args->set.sites, "Every site's name, comma-separated")
      ->required()
      ->delimiter(',');
  cmd->add_option("--output", args->output, "The replica set file to write")->required();
  cmd->callback([&ctx, args] {
    const std::string text = policy::FormatReplicaSet(args->set);
    // The same check the core makes, before anyone approves a file it would refuse.
    if (Result<policy::ReplicaSet> parsed = policy::ParseReplicaSet(text); !parsed.ok()) {
      ctx.exit_code = Fail(parsed.status());
      return;
    }
    if (Status s = WriteFileAtomic(args->output, text); !s.ok()) {
      ctx.exit_code = Fail(s);
      return;
    }
    // Approvals of an earlier set could never count for this one.
    std::remove((args->output + ".approvals").c_str());
    std::printf("replica set written to %s; approve it with `ipn replica approve --set %s`\n",
                args->output.c_str(), args->output.c_str());
    ctx.exit_code = 0;
  });
}

void RegisterApprove(CLI::App& group, Context& ctx) {
  auto* cmd = group.add_subcommand(
      "approve", "Add an operator's approval of a replica set file (FILE.approvals)");
  struct Args {
    std::string set;
    ApproverArgs approver;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--set", args->set, "The replica set file (ipn replica request)")->required();
  AddApproverOptions(*cmd, args->approver);
  cmd->callback([&ctx, args] {
    Result<std::string> text = ReadFile(args->set);
    if (!text.ok()) {
      ctx.exit_code = Fail(text.status());
      return;
    }
    if (Result<policy::ReplicaSet> parsed = policy::ParseReplicaSet(*text); !parsed.ok()) {
      ctx.exit_code = Fail(parsed.status().WithContext(args->set));
      return;
    }
    const std::string approvals = args->set + ".approvals";
    Result<size_t> count =
        AddApproval(args->approver, policy::kReplicaChangeAction, args->set, approvals);
    if (!count.ok()) {
      ctx.exit_code = Fail(count.status());
      return;
    }
    std::printf("%s approves the replica set %s (%zu approval(s) in %s)\n",
                args->approver.operator_id.c_str(), args->set.c_str(), *count, approvals.c_str());
    ctx.exit_code = 0;
  });
}

}  // namespace

void RegisterReplicaCommand(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand(
      "replica", "A replicated core's sites under the two-person rule: request, approve");
  group->require_subcommand(1);
  RegisterRequest(*group, ctx);
  RegisterApprove(*group, ctx);
}

}  // namespace ipn::cli
