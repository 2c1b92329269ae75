// The policy source's CSV reader: quoting, comments, line endings, and clear errors.
#include "policy/csv.h"

#include <gtest/gtest.h>

namespace ipn::policy {
namespace {

TEST(PolicyCsvTest, ReadsHeaderAndRecordsWithLineNumbers) {
  auto t = ParseCsv("a,b,c\n1,2,3\n\n# a comment\n 4 , five ,6\n", "x.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->header, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t->records.size(), 2u);
  EXPECT_EQ(t->records[1], (std::vector<std::string>{"4", "five", "6"}));
  EXPECT_EQ(t->lines, (std::vector<int>{2, 5}));
}

TEST(PolicyCsvTest, QuotedFieldsHoldCommasQuotesAndNewlines) {
  auto t = ParseCsv("a,b\n\"x, y\",\"say \"\"hi\"\"\nand more\"\nlast,\"\"\n", "x.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->records.size(), 2u);
  EXPECT_EQ(t->records[0][0], "x, y");
  EXPECT_EQ(t->records[0][1], "say \"hi\"\nand more");
  EXPECT_EQ(t->records[1], (std::vector<std::string>{"last", ""}));
  EXPECT_EQ(t->lines, (std::vector<int>{2, 4}));
}

TEST(PolicyCsvTest, AcceptsCrlfBomAndNoFinalNewline) {
  auto t = ParseCsv(
      "\xEF\xBB\xBF"
      "code,name\r\nA,日本\r\nB,x",
      "x.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->header[0], "code");
  ASSERT_EQ(t->records.size(), 2u);
  EXPECT_EQ(t->records[0][1], "日本");
  EXPECT_EQ(t->records[1][1], "x");
}

TEST(PolicyCsvTest, ErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* expected;
  } cases[] = {
      {"a,b\n1,2\n1,2,3\n", "x.csv line 3: 3 fields, but the header has 2"},
      {"a,b\n1,\"open\n", "x.csv line 2: a quoted field is not closed"},
      {"a,b\n1,x\"y\n", "x.csv line 2: a quote inside an unquoted field"},
      {"a,b\n1,\"x\"y\n", "x.csv line 2: text after a closing quote"},
      {"a,b\n1,\xff\n", "x.csv line 2: text is not valid UTF-8"},
      {"a,b\n1,\xc0\xaf\n", "x.csv line 2: text is not valid UTF-8"},  // overlong '/'
      {"a,b\r1,2\n", "x.csv line 1: stray carriage return"},
      {"# only a comment\n\n", "x.csv: empty file (no header row)"},
  };
  for (const Case& c : cases) {
    auto t = ParseCsv(c.text, "x.csv");
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_EQ(t.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(t.status().message(), c.expected) << c.text;
  }
}

}  // namespace
}  // namespace ipn::policy
