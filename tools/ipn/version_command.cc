// `ipn version`: prints the software and wire-protocol versions.
#include <cstdio>

#include "tools/ipn/commands.h"

namespace ipn::cli {

void RegisterVersionCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("version", "Print the software and wire-protocol versions");
  cmd->callback([&ctx] {
    std::printf("ipn 0.1.0 (wire protocol ipn.v1)\n");
    ctx.exit_code = 0;
  });
}

}  // namespace ipn::cli
