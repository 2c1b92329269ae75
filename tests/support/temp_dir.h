// TempDir: a fresh directory under $TMPDIR for one test, removed when the test ends
// (kept when IPN_KEEP_TEST_DIRS is set, for debugging). Also helpers to scan every
// file under a directory for forbidden bytes (privacy tests).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ipn::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Every regular file under `root`, recursively.
std::vector<std::string> ListFilesRecursively(const std::string& root);

// Files under `root` whose bytes contain `needle` anywhere (binary-safe).
std::vector<std::string> FilesContaining(const std::string& root, std::string_view needle);

// Directory of the built executables (from IPN_BIN_DIR, set by ctest).
std::string BinDir();

}  // namespace ipn::testing
