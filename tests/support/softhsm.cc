// SoftHSM2 tokens in a test's own directory.
#include "tests/support/softhsm.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

extern char** environ;

namespace ipn::testing {

SoftHsm::SoftHsm(const TempDir& dir) {
  token_dir_ = dir.Sub("softhsm-tokens");
  std::filesystem::create_directories(token_dir_);
  conf_ = dir.Sub("softhsm2.conf");
  std::ofstream out(conf_);
  out << "directories.tokendir = " << token_dir_ << "\n"
      << "objectstore.backend = file\n"
      << "log.level = ERROR\n"
      << "slots.removable = false\n";
  out.close();
  setenv("SOFTHSM2_CONF", conf_.c_str(), 1);
  // The processes a test starts (ipn-core, ipn) load the module too: under the leak
  // checker, they ignore its known leak (softhsm.lsan) and nothing else.
  setenv("LSAN_OPTIONS", "suppressions=" IPN_SOFTHSM_LSAN_FILE, 1);
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string options = std::string(asan != nullptr ? asan : "") +
                              (asan != nullptr && *asan != '\0' ? ":" : "") +
                              "fast_unwind_on_malloc=0";
  setenv("ASAN_OPTIONS", options.c_str(), 1);
}

bool SoftHsm::InitToken(const std::string& label, const std::string& pin) const {
  std::vector<std::string> args = {"softhsm2-util", "--init-token", "--free", "--label",
                                   label,           "--pin",        pin,      "--so-pin",
                                   kTestSoPin};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "softhsm2-util", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace ipn::testing
