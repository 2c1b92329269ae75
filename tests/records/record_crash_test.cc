// Durability: a real appending process (ipn_records_crash_appender) is killed with SIGKILL
// at random moments, 20 times. After each kill the store is reopened: every record the
// process was told was durable is there, unchanged, and the log verifies.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <sstream>

#include "records/key_file.h"
#include "records/record_store.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace ipn::records {
namespace {

struct AppendRun {
  std::map<uint64_t, std::string> acknowledged;  // sequence -> request id
  int exit_signal = 0;
  std::string stderr_text;
};

// Starts the appender, lets it run `run_ms` after its first acknowledgement, kills it.
AppendRun AppendThenKill(const std::string& dir, const std::string& key_file, int run_ms) {
  AppendRun run;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return run;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  const std::string binary = ipn::testing::BinDir() + "/ipn_records_crash_appender";
  std::vector<char*> argv = {const_cast<char*>(binary.c_str()), const_cast<char*>(dir.c_str()),
                             const_cast<char*>(key_file.c_str()), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    ADD_FAILURE() << "cannot start " << binary << ": " << std::strerror(rc);
    return run;
  }
  std::string text;
  char buf[65536];
  auto read_some = [&](int timeout_ms) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n <= 0) return false;
    text.append(buf, static_cast<size_t>(n));
    return true;
  };
  using Clock = std::chrono::steady_clock;
  const auto give_up = Clock::now() + std::chrono::seconds(30);
  while (text.find('\n') == std::string::npos && Clock::now() < give_up) {
    if (!read_some(100)) break;
  }
  const auto kill_at = Clock::now() + std::chrono::milliseconds(run_ms);
  while (Clock::now() < kill_at) {
    const int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(kill_at - Clock::now()).count());
    if (!read_some(std::max(left, 0))) break;
  }
  ::kill(pid, SIGKILL);
  while (read_some(-1)) {
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) run.exit_signal = WTERMSIG(status);
  // Only complete lines were acknowledged.
  const size_t complete = text.rfind('\n');
  std::istringstream lines(complete == std::string::npos ? "" : text.substr(0, complete + 1));
  uint64_t seq;
  std::string id;
  while (lines >> seq >> id) run.acknowledged[seq] = id;
  return run;
}

TEST(RecordCrashTest, AcknowledgedRecordsSurviveSigkillAndTheLogVerifies) {
  ipn::testing::TempDir dir;
  const std::string key_file = dir.Sub("records.keys");
  RecordKeys keys = GenerateRecordKeys();
  ASSERT_TRUE(WriteKeyFile(key_file, keys).ok());
  const std::string store_dir = dir.Sub("store");
  std::mt19937 rng(std::random_device{}());
  std::map<uint64_t, std::string> all;
  uint64_t previous_size = 0;
  for (int round = 0; round < 20; ++round) {
    const int run_ms = std::uniform_int_distribution<int>(0, 60)(rng);
    AppendRun run = AppendThenKill(store_dir, key_file, run_ms);
    ASSERT_EQ(run.exit_signal, SIGKILL) << "round " << round << ": the appender stopped by itself";
    ASSERT_FALSE(run.acknowledged.empty()) << "round " << round;
    for (const auto& [seq, id] : run.acknowledged) {
      ASSERT_TRUE(all.emplace(seq, id).second) << "sequence " << seq << " acknowledged twice";
    }

    RecordStoreOptions options;
    options.dir = store_dir;
    options.encryption_keys.emplace_back(1, keys.encryption_keys[0].second.Clone());
    options.signing_secret_key = keys.signing_secret_key.Clone();
    options.read_only = true;
    Result<std::unique_ptr<RecordStore>> store = RecordStore::Open(std::move(options));
    ASSERT_TRUE(store.ok()) << "round " << round << ": " << store.status().ToString();
    const uint64_t size = (*store)->Size();
    EXPECT_GE(size, previous_size);
    EXPECT_GT(size, run.acknowledged.rbegin()->first);
    for (const auto& [seq, id] : all) {
      Result<Record> r = (*store)->Get(seq);
      ASSERT_TRUE(r.ok()) << "round " << round << ": acknowledged record " << seq
                          << " lost: " << r.status().ToString();
      ASSERT_EQ(r->request_id, id) << "round " << round << ", record " << seq;
    }
    Result<VerifyReport> report = (*store)->Verify();
    ASSERT_TRUE(report.ok());
    ASSERT_TRUE(report->ok()) << "round " << round << ": " << report->findings[0].detail << " at "
                              << report->findings[0].first_sequence;
    previous_size = size;
  }
  EXPECT_GT(all.size(), 100u);
}

}  // namespace
}  // namespace ipn::records
