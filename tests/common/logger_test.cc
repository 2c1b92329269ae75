#include "common/logger.h"

#include <gtest/gtest.h>

#include <sstream>

#include "common/file_util.h"
#include "tests/support/temp_dir.h"

namespace ipn {
namespace {

TEST(LoggerTest, WritesOneJsonObjectPerLine) {
  testing::TempDir dir;
  std::string path = dir.Sub("x.log");
  {
    auto logger = Logger::OpenFile(path, "core");
    ASSERT_TRUE(logger.ok());
    (*logger)->Info("inquiry_accepted", {{"request_id", "r-1"}, {"latency_us", 42}});
    (*logger)->Debug("hidden_below_min_level");
    (*logger)->Warn("quote\"and\nnewline", {});
  }
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  std::istringstream lines(*text);
  std::string line;
  std::vector<nlohmann::json> parsed;
  while (std::getline(lines, line)) parsed.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0]["component"], "core");
  EXPECT_EQ(parsed[0]["event"], "inquiry_accepted");
  EXPECT_EQ(parsed[0]["request_id"], "r-1");
  EXPECT_EQ(parsed[0]["latency_us"], 42);
  EXPECT_EQ(parsed[1]["level"], "warn");
  EXPECT_EQ(parsed[1]["event"], "quote\"and\nnewline");
}

}  // namespace
}  // namespace ipn
