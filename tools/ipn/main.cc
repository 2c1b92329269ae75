// `ipn`: entry point. Parses the command line and runs one command group.
#include <cstdio>
#include <string>

#include "tools/daemon/last_resort.h"
#include "tools/ipn/commands.h"

namespace {

int RunMain(int argc, char** argv) {
  CLI::App app{"ipn: tools for the information-provision network broker"};
  app.require_subcommand(1);
  app.fallthrough(false);
  ipn::cli::Context ctx;
  ipn::cli::RegisterVersionCommand(app, ctx);
  // REGISTER COMMAND GROUPS (one line each; keep in the order of commands.h)
  ipn::cli::RegisterKeysCommand(app, ctx);
  ipn::cli::RegisterSymbolCommand(app, ctx);
  ipn::cli::RegisterPolicyCommand(app, ctx);
  ipn::cli::RegisterRecordsCommand(app, ctx);
  ipn::cli::RegisterTokenCommand(app, ctx);
  ipn::cli::RegisterCardCommand(app, ctx);
  ipn::cli::RegisterReplicaCommand(app, ctx);
#ifdef IPN_WITH_BROKER
  ipn::cli::RegisterDemoCommand(app, ctx);
  ipn::cli::RegisterInquireCommand(app, ctx);
  ipn::cli::RegisterOversightCommand(app, ctx);
  ipn::cli::RegisterBackupCommand(app, ctx);
  ipn::cli::RegisterCardLinkCommand(app, ctx);
  ipn::cli::RegisterTrustCommand(app, ctx);
  ipn::cli::RegisterDeskCommand(app, ctx);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0 && app.get_subcommands().empty() && argc > 1 &&
        std::string(argv[1]).rfind('-', 0) != 0) {
      std::fprintf(stderr,
                   "ipn: unknown command '%s'. Run 'ipn --help' for the list of commands.\n",
                   argv[1]);
      return 2;
    }
    return app.exit(e);
  }
  return ctx.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  ipn::daemon::LastResort last_resort("ipn");
  return last_resort.Run([&] { return RunMain(argc, argv); });
}
