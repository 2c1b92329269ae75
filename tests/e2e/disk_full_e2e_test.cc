// Disk full (issue #12): the core's record store lives on a small tmpfs; a filler file
// takes the rest of it. The core then refuses inquiries clearly ("records unavailable"),
// stays up, records nothing half-way, and serves again by itself once the filler is
// removed. Every inquiry the core accepted before or after has its records; the refusals
// made while records were down are recorded, aggregated, once they are back. Real
// processes, a real filesystem limit (mount(2) needs root, as CI has).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "records/record.h"
#include "tests/e2e/e2e_fixture.h"

namespace ipn::testing {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr const char* kReg = "REG-0001";
constexpr const char* kMun = "MUN-131016";
constexpr const char* kPen = "PEN-0001";

// Writes 256 KiB blocks to `path` until the filesystem is full; returns the bytes written.
size_t FillUp(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  const std::vector<char> block(256 * 1024, 'x');
  size_t total = 0;
  for (;;) {
    const ssize_t n = ::write(fd, block.data(), block.size());
    if (n <= 0) break;
    total += static_cast<size_t>(n);
  }
  ::close(fd);
  return total;
}

class DiskFullTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!mounted_.empty()) ::umount2(mounted_.c_str(), MNT_DETACH);
  }
  // Mounts a 48 MiB tmpfs where the core keeps its provision records.
  void MountSmallDisk(const std::string& data_dir) {
    records_dir_ = data_dir + "/core/records";
    std::filesystem::create_directories(records_dir_);
    ASSERT_EQ(::mount("tmpfs", records_dir_.c_str(), "tmpfs", 0, "size=48m,mode=0700"), 0)
        << "mounting a small tmpfs for the records needs root (CI runs as root): "
        << std::strerror(errno);
    mounted_ = records_dir_;
  }
  std::string records_dir_, mounted_;
};

TEST_F(DiskFullTest, TheCoreRefusesClearlyRecordsNothingHalfwayAndResumesWhenSpaceReturns) {
  E2eNetwork n({kReg, kMun, kPen}, {}, "", 2.0,
               [this](const std::string& dir) { MountSmallDisk(dir); });
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string code = ResidentCodeFrom("2718281828");
  const std::vector<uint8_t> at_pen = n.IssueSymbol(kPen, code, "full-1");
  (void)n.IssueSymbol(kMun, code, "full-1");
  const v1::Outcome expected = n.ExpectedOutcome(kMun, "full-1", "local-tax");
  std::set<std::string> accepted;  // request ids the core accepted (it said so: an exchange id)
  auto ask = [&](const std::string& id) {
    interface::InquiryReply r = n.Inquire(kPen, at_pen, "np-benefit", kMun, "local-tax", id);
    if (!r.exchange_id.empty()) accepted.insert(id);
    return r;
  };
  ASSERT_EQ(ask("before").outcome, expected);

  // The disk fills. Inquiries go on until the core finds out (RocksDB's preallocated
  // write-ahead log may take a few first); from then on each is refused, clearly.
  const size_t filler = FillUp(records_dir_ + "/filler");
  ASSERT_GT(filler, 0u);
  interface::InquiryReply refused;
  int attempt = 0;
  for (const auto until = steady_clock::now() + seconds(60); steady_clock::now() < until;) {
    refused = ask("full-" + std::to_string(++attempt));
    if (refused.explanation.find("records unavailable") != std::string::npos) break;
  }
  ASSERT_NE(refused.explanation.find("records unavailable"), std::string::npos)
      << "after " << attempt << " attempts: " << refused.explanation;
  EXPECT_EQ(refused.outcome, v1::OUTCOME_FAILED);
  EXPECT_TRUE(refused.exchange_id.empty());
  EXPECT_EQ(n.CoreMetric("ipn_core_records_available"), 0);
  // Still refused, at once, while the disk stays full; the core process stays up.
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(ask("still-full-" + std::to_string(i)).explanation.find("records unavailable"),
              std::string::npos);
  }

  // Space returns: the core notices by itself (it probes every second).
  std::filesystem::remove(records_dir_ + "/filler");
  const auto freed = steady_clock::now();
  bool back = false;
  int after = 0;
  for (const auto until = steady_clock::now() + seconds(30);
       !back && steady_clock::now() < until;) {
    back = ask("after-" + std::to_string(++after)).outcome == expected;
  }
  ASSERT_TRUE(back) << "the core did not serve again within 30 s of space returning";
  EXPECT_EQ(n.CoreMetric("ipn_core_records_available"), 1);
  ::testing::Test::RecordProperty("attempts_until_refused", attempt);
  ::testing::Test::RecordProperty("attempts_after_space_returned", after);
  ::testing::Test::RecordProperty(
      "recovered_ms", static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           steady_clock::now() - freed)
                                           .count()));

  // Nothing acknowledged is lost: every accepted inquiry has its acceptance on record, and
  // each of them has exactly one end. The refusals while down are on record, aggregated.
  const std::vector<records::Record> all = n.StopAndReadRecords();
  // Every process has stopped: the small disk goes before the test's directory does.
  ASSERT_EQ(::umount2(mounted_.c_str(), 0), 0) << std::strerror(errno);
  mounted_.clear();
  for (const std::string& id : accepted) {
    std::vector<std::string> outcomes;
    const std::vector<records::Event> events = EventsOf(all, kPen, id, &outcomes);
    EXPECT_EQ(std::count(events.begin(), events.end(), records::Event::kInquiryAccepted), 1) << id;
  }
  uint64_t refusals_recorded = 0;
  for (const records::Record& r : all) {
    if (r.inquirer == kPen && r.outcome.rfind("RECORDS_UNAVAILABLE count=", 0) == 0) {
      refusals_recorded += std::stoull(r.outcome.substr(26));
    }
  }
  EXPECT_GE(refusals_recorded, 4u) << "the refusals while records were down are recorded";
}

}  // namespace
}  // namespace ipn::testing
