// The command groups of `ipn`; each group registers its subcommands on the app.
// A subcommand's callback sets *exit_code (0 = success) — callbacks never call exit().
#pragma once

#include <CLI/CLI.hpp>

namespace ipn::cli {

struct Context {
  int exit_code = 0;
};

// Each is defined in <group>_command.cc.
void RegisterVersionCommand(CLI::App& app, Context& ctx);
// COMMAND GROUPS (one line each; keep in this order)
void RegisterKeysCommand(CLI::App& app, Context& ctx);
void RegisterSymbolCommand(CLI::App& app, Context& ctx);
void RegisterPolicyCommand(CLI::App& app, Context& ctx);
void RegisterRecordsCommand(CLI::App& app, Context& ctx);
void RegisterTokenCommand(CLI::App& app, Context& ctx);
void RegisterCardCommand(CLI::App& app, Context& ctx);
void RegisterReplicaCommand(CLI::App& app, Context& ctx);

#ifdef IPN_WITH_BROKER
// Broker commands (built with IPN_BUILD_BROKER).
void RegisterDemoCommand(CLI::App& app, Context& ctx);
void RegisterInquireCommand(CLI::App& app, Context& ctx);
void RegisterOversightCommand(CLI::App& app, Context& ctx);
void RegisterBackupCommand(CLI::App& app, Context& ctx);
// Adds `ipn card link` to the card group (after RegisterCardCommand).
void RegisterCardLinkCommand(CLI::App& app, Context& ctx);
void RegisterTrustCommand(CLI::App& app, Context& ctx);
// Adds `ipn oversight desk` and `desk-user` to the oversight group.
void RegisterDeskCommand(CLI::App& app, Context& ctx);
#endif

}  // namespace ipn::cli
