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

}  // namespace ipn::cli
