// ChildProcess (tools/localnet/child_process.h): a daemon started for a test or the demo
// does not outlive the process that started it, however that process ends.
#include "tools/localnet/child_process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "tests/support/temp_dir.h"

namespace ipn::localnet {
namespace {

// Gone, or a zombie nobody has reaped yet: either way it runs no more.
bool Ended(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const size_t close = line.rfind(')');
  return close == std::string::npos || line.substr(close + 2, 1) == "Z" ||
         line.substr(close + 2, 1) == "X";
}

TEST(ChildProcessTest, AChildEndsWhenTheProcessThatStartedItIsKilled) {
  testing::TempDir dir;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  // A process that starts a long-running child and is then killed outright, as a test is
  // at its timeout: no destructor runs, nothing stops the child but the kernel.
  const pid_t starter = fork();
  ASSERT_GE(starter, 0);
  if (starter == 0) {
    close(fds[0]);
    Result<ChildProcess> child = ChildProcess::Start({"/bin/sleep", "600"}, {}, dir.Sub("err"));
    const pid_t pid = child.ok() ? child->pid() : -1;
    (void)!write(fds[1], &pid, sizeof pid);
    pause();  // killed below
    _exit(0);
  }
  close(fds[1]);
  pid_t child = -1;
  ASSERT_EQ(read(fds[0], &child, sizeof child), static_cast<ssize_t>(sizeof child));
  close(fds[0]);
  ASSERT_GT(child, 0);
  EXPECT_FALSE(Ended(child));
  ASSERT_EQ(kill(starter, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(starter, &status, 0), starter);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!Ended(child) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const bool ended = Ended(child);
  if (!ended) kill(child, SIGKILL);  // leave nothing behind, then fail
  EXPECT_TRUE(ended) << "the child outlived the process that started it";
}

}  // namespace
}  // namespace ipn::localnet
