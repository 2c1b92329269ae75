// SoftHsmStore: softhsm2.conf in a directory, tokens made with softhsm2-util.
#include "token/softhsm_store.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <vector>

#include "common/file_util.h"

extern char** environ;

namespace ipn::token {

Result<SoftHsmStore> SoftHsmStore::Create(const std::string& dir) {
  SoftHsmStore store;
  store.token_dir_ = dir + "/tokens";
  store.conf_ = dir + "/softhsm2.conf";
  std::error_code ec;
  std::filesystem::create_directories(store.token_dir_, ec);
  if (ec) return Status::IoError("cannot create " + store.token_dir_ + ": " + ec.message());
  IPN_RETURN_IF_ERROR(WriteFileAtomic(store.conf_, "directories.tokendir = " + store.token_dir_ +
                                                       "\n"
                                                       "objectstore.backend = file\n"
                                                       "log.level = ERROR\n"
                                                       "slots.removable = false\n"));
  return store;
}

void SoftHsmStore::Activate() const {
  setenv("SOFTHSM2_CONF", conf_.c_str(), 1);
}

Status SoftHsmStore::InitToken(const std::string& label, const std::string& pin,
                               const std::string& so_pin) const {
  std::vector<std::string> args = {"softhsm2-util", "--init-token", "--free", "--label",
                                   label,           "--pin",        pin,      "--so-pin",
                                   so_pin};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The child's environment: ours with SOFTHSM2_CONF = this store's.
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).starts_with("SOFTHSM2_CONF=")) continue;
    env_text.emplace_back(*e);
  }
  env_text.push_back("SOFTHSM2_CONF=" + conf_);
  std::vector<char*> envp;
  for (std::string& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "softhsm2-util", &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return Status::Unavailable("cannot run softhsm2-util (install softhsm2: scripts/setup)");
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Internal("softhsm2-util could not initialise token " + label);
  }
  return Status::Ok();
}

}  // namespace ipn::token
