// No resident code stays in the memory of the core or of any node after an issuance
// (DESIGN.md §3: used once and wiped). The codes travel sealed to the core's key from the
// registry's system; the core opens one into a buffer it wipes after deriving the linkage
// symbol. The test reads every readable, writable region of each running process
// (/proc/PID/mem: heap, thread arenas, ZeroMQ's buffers) and looks for each code's digits.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tests/e2e/e2e_fixture.h"

namespace ipn::testing {
namespace {

struct ScanResult {
  size_t bytes_read = 0;
  std::map<std::string, int> hits;  // needle -> occurrences
};

// Every readable and writable mapping of `pid` (what a program's own data lives in).
ScanResult ScanProcess(pid_t pid, const std::vector<std::string>& needles) {
  ScanResult out;
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  const int mem = open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (mem < 0) return out;
  std::string line, buffer;
  while (std::getline(maps, line)) {
    std::istringstream fields(line);
    std::string range, perms;
    fields >> range >> perms;
    if (perms.size() < 2 || perms[0] != 'r' || perms[1] != 'w') continue;
    const size_t dash = range.find('-');
    const uint64_t begin = std::stoull(range.substr(0, dash), nullptr, 16);
    const uint64_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    // Huge reservations are not a program's data (AddressSanitizer's shadow is terabytes).
    if (end - begin > (uint64_t{1} << 30)) continue;
    // In chunks, overlapping by a needle's length, so no region needs one big buffer.
    constexpr size_t kChunk = 1 << 20, kOverlap = 64;
    for (uint64_t at = begin; at < end; at += kChunk) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk + kOverlap, end - at));
      buffer.resize(want);
      const ssize_t n = pread(mem, buffer.data(), want, static_cast<off_t>(at));
      if (n <= 0) break;
      out.bytes_read += std::min<size_t>(static_cast<size_t>(n), kChunk);
      const std::string_view region(buffer.data(), static_cast<size_t>(n));
      for (const std::string& needle : needles) {
        // A hit starting in the overlap is counted by the next chunk, not twice.
        for (size_t hit = region.find(needle); hit != std::string_view::npos && hit < kChunk;
             hit = region.find(needle, hit + 1)) {
          ++out.hits[needle];
        }
      }
    }
  }
  close(mem);
  sodium_memzero(buffer.data(), buffer.size());
  return out;
}

TEST(MemoryScanE2eTest, NoResidentCodeStaysInTheCoreOrAnyNodeAfterIssuance) {
  std::vector<std::string> codes;
  {
    E2eNetwork n({"REG-0001", "MUN-131016", "PEN-0001"});
    ASSERT_FALSE(::testing::Test::HasFailure());
    for (int i = 0; i < 40; ++i) {
      // Built at run time: no code is a constant of this binary or of any other.
      codes.push_back(ResidentCodeFrom(std::to_string(7310000000LL + 7919LL * i)));
      ASSERT_EQ(n.IssueSymbol("MUN-131016", codes.back(), "m" + std::to_string(i)).size(), 50u);
      ASSERT_EQ(n.IssueSymbol("PEN-0001", codes.back(), "m" + std::to_string(i)).size(), 50u);
    }
    // The scanner finds what is there: a canary this process holds.
    std::string canary =
        "CANARY-" + std::to_string(getpid()) + "-" + std::to_string(randombytes_random());
    ScanResult self = ScanProcess(getpid(), {canary});
    ASSERT_GE(self.hits[canary], 1) << "the scanner cannot see a live string";

    const auto pids = n.net().ProcessIds();
    ASSERT_TRUE(pids.count("core") == 1 && pids.count("node:REG-0001") == 1);
    for (const auto& [name, pid] : pids) {
      ScanResult r = ScanProcess(pid, codes);
      EXPECT_GT(r.bytes_read, 1u << 20) << name << ": its memory could not be read";
      int total = 0;
      for (const auto& [code, count] : r.hits) total += count;
      EXPECT_EQ(total, 0) << name << " holds " << r.hits.size() << " of the " << codes.size()
                          << " resident codes after issuance";
    }
  }
  for (std::string& c : codes) sodium_memzero(c.data(), c.size());
}

}  // namespace
}  // namespace ipn::testing
