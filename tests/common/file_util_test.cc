#include "common/file_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/temp_dir.h"

namespace ipn {
namespace {

TEST(FileUtilTest, AtomicWriteReplacesWholeFileWithPrivateMode) {
  testing::TempDir dir;
  std::string path = dir.Sub("f.bin");
  ASSERT_TRUE(WriteFileAtomic(path, std::string("first version")).ok());
  ASSERT_TRUE(WriteFileAtomic(path, std::string("second")).ok());
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "second");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(testing::ListFilesRecursively(dir.path()).size(), 1u);  // no temp file left
}

TEST(FileUtilTest, ErrorsNameThePath) {
  auto missing = ReadFile("/nonexistent/ipn/file");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/ipn/file"), std::string::npos);
  Status s = WriteFileAtomic("/nonexistent/ipn/file", std::string("x"));
  EXPECT_EQ(s.code(), Status::Code::kIoError);
}

}  // namespace
}  // namespace ipn
