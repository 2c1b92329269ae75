// The real `ipn` binary: keys init, symbol issue on a small file (CSV out, bad lines
// reported by number and reason, codes never echoed), translate, check, and the key
// lifecycle commands, with the passphrase from IPN_PASSPHRASE and the test-only KDF.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "symbol/symbol_service.h"
#include "tests/support/temp_dir.h"
#include "tests/symbol/test_codes.h"

namespace ipn::symbol {
namespace {

using ipn::testing::TempDir;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class SymbolCliTest : public ::testing::Test {
 protected:
  // Runs `ipn <args>` with stdin from /dev/null; `env` is prepended (e.g. "IPN_X=1").
  CliRun Ipn(const std::string& args, const std::string& env = "") {
    const std::string out = tmp_.Sub("stdout"), err = tmp_.Sub("stderr");
    std::string command = "env " + env + " IPN_KDF=minimum " + ipn::testing::BinDir() + "/ipn " +
                          args + " </dev/null >" + out + " 2>" + err;
    int status = std::system(command.c_str());
    CliRun run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = ReadFile(out).value();
    run.err = ReadFile(err).value();
    outputs_ += run.out + run.err;
    return run;
  }
  std::string WithPassphrase() const {
    return std::string("IPN_PASSPHRASE='") + testing::kPassphrase + "'";
  }
  void WriteLines(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }

  TempDir tmp_;
  std::string outputs_;  // everything the commands printed, for the privacy check
};

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_F(SymbolCliTest, InitIssueTranslateCheckAndKeyLifecycle) {
  const std::string dir = tmp_.Sub("core"), input = tmp_.Sub("codes.txt"),
                    output = tmp_.Sub("symbols.csv");
  CliRun init = Ipn("keys init --dir " + dir, WithPassphrase());
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_NE(init.out.find("created the key ring"), std::string::npos);

  const auto codes = testing::DistinctResidentCodes(4, 99);
  // Lines: 1-3 valid, 4 blank, 5 bad check digit, 6 full-width, 7 valid with CRLF and
  // blanks around it, 8 a duplicate of line 1.
  std::string bad_check = codes[3];
  bad_check[10] = static_cast<char>('0' + (bad_check[10] - '0' + 1) % 10);
  WriteLines(input, codes[0] + "\n" + codes[1] + "\n" + codes[2] + "\n\n" + bad_check +
                        "\n４９４２８５９５７５０\n  " + codes[3] + " \r\n" + codes[0] + "\n");
  CliRun issue = Ipn(
      "symbol issue --dir " + dir + " --agency MUN-131016 --input " + input + " --output " + output,
      WithPassphrase());
  EXPECT_EQ(issue.exit_code, 3) << issue.err;  // some lines rejected
  EXPECT_NE(issue.err.find("line 4: resident code is empty"), std::string::npos) << issue.err;
  EXPECT_NE(issue.err.find("line 5: resident code check digit"), std::string::npos);
  EXPECT_NE(issue.err.find("line 6: resident code contains full-width"), std::string::npos);
  EXPECT_NE(issue.err.find("issued 5 symbols"), std::string::npos) << issue.err;
  EXPECT_EQ(issue.err.find("\r["), std::string::npos) << "no progress bar when not a terminal";

  auto csv = ReadFile(output);
  ASSERT_TRUE(csv.ok());
  auto rows = SplitLines(*csv);
  ASSERT_EQ(rows.size(), 5u) << *csv;
  const std::vector<int> expected_lines = {1, 2, 3, 7, 8};
  const std::vector<std::string> expected_codes = {codes[0], codes[1], codes[2], codes[3],
                                                   codes[0]};
  std::vector<std::string> printable;
  for (size_t i = 0; i < rows.size(); ++i) {
    auto comma = rows[i].find(',');
    ASSERT_NE(comma, std::string::npos);
    EXPECT_EQ(rows[i].substr(0, comma), std::to_string(expected_lines[i]));
    printable.push_back(rows[i].substr(comma + 1));
    EXPECT_EQ(printable.back().size(), 80u);
  }
  EXPECT_EQ(printable[0], printable[4]) << "same person, same symbol";

  // The symbols written are the ones the library gives (checked in-process).
  {
    auto service = SymbolService::Open(dir, testing::kPassphrase, testing::FastOptions());
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    for (size_t i = 0; i < printable.size(); ++i) {
      auto reissued = (*service)->Issue(expected_codes[i], "MUN-131016");
      ASSERT_TRUE(reissued.ok());
      EXPECT_EQ(reissued->ToPrintable(), printable[i]) << i;
    }
  }

  // Refuses to overwrite the output without --force.
  CliRun again = Ipn(
      "symbol issue --dir " + dir + " --agency MUN-131016 --input " + input + " --output " + output,
      WithPassphrase());
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("--force"), std::string::npos);

  // Translate to an agency that has never been issued anything, then to one that has.
  CliRun translate = Ipn("symbol translate --dir " + dir + " --from MUN-131016 --to PEN-0001 " +
                             "--symbol " + printable[1],
                         WithPassphrase());
  ASSERT_EQ(translate.exit_code, 0) << translate.err;
  EXPECT_NE(translate.out.find("provider_issued: no"), std::string::npos) << translate.out;
  CliRun forged = Ipn("symbol translate --dir " + dir + " --from PEN-0001 --to MUN-131016 " +
                          "--symbol " + printable[1],
                      WithPassphrase());
  EXPECT_EQ(forged.exit_code, 1);
  EXPECT_NE(forged.err.find("invalid symbol"), std::string::npos);

  // Check: names the rule per line, never the code.
  CliRun check = Ipn("symbol check --input " + input);
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.out.find("line 1: valid"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("line 5: resident code check digit"), std::string::npos);

  // Key lifecycle.
  CliRun rotate = Ipn("keys rotate --dir " + dir + " --agency MUN-131016", WithPassphrase());
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  EXPECT_NE(rotate.out.find("key version 2 is now active"), std::string::npos);
  CliRun refuse =
      Ipn("keys retire --dir " + dir + " --agency MUN-131016 --version 2", WithPassphrase());
  EXPECT_EQ(refuse.exit_code, 1);
  EXPECT_NE(refuse.err.find("active"), std::string::npos);
  CliRun retire =
      Ipn("keys retire --dir " + dir + " --agency MUN-131016 --version 1", WithPassphrase());
  ASSERT_EQ(retire.exit_code, 0) << retire.err;
  CliRun list = Ipn("keys list --dir " + dir, WithPassphrase());
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("destroyed"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("active"), std::string::npos);
  CliRun destroyed = Ipn("symbol translate --dir " + dir + " --from MUN-131016 --to PEN-0001 " +
                             "--symbol " + printable[0],
                         WithPassphrase());
  EXPECT_EQ(destroyed.exit_code, 1);
  EXPECT_NE(destroyed.err.find("key version 1 of agency MUN-131016 was destroyed"),
            std::string::npos)
      << destroyed.err;

  // Passphrase problems are clear errors.
  CliRun no_passphrase = Ipn("keys list --dir " + dir);
  EXPECT_EQ(no_passphrase.exit_code, 1);
  EXPECT_NE(no_passphrase.err.find("IPN_PASSPHRASE"), std::string::npos) << no_passphrase.err;
  CliRun wrong = Ipn("keys list --dir " + dir, "IPN_PASSPHRASE=wrong-passphrase");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("wrong passphrase"), std::string::npos) << wrong.err;

  // No command printed a resident code; nor is one anywhere under the key ring directory.
  for (const auto& code : codes) {
    EXPECT_EQ(outputs_.find(code), std::string::npos);
    EXPECT_TRUE(ipn::testing::FilesContaining(dir, code).empty());
  }
  EXPECT_EQ(outputs_.find(bad_check), std::string::npos);
}

TEST_F(SymbolCliTest, InitRefusesShortPassphrasesAndExistingKeyRings) {
  const std::string dir = tmp_.Sub("core");
  CliRun weak = Ipn("keys init --dir " + dir + " --kdf interactive", "IPN_PASSPHRASE=short");
  EXPECT_EQ(weak.exit_code, 1);
  EXPECT_NE(weak.err.find("at least 12 characters"), std::string::npos) << weak.err;
  CliRun bad_kdf = Ipn("keys init --dir " + dir + " --kdf fast", WithPassphrase());
  EXPECT_EQ(bad_kdf.exit_code, 1);
  EXPECT_NE(bad_kdf.err.find("interactive, moderate, minimum"), std::string::npos);
  ASSERT_EQ(Ipn("keys init --dir " + dir, WithPassphrase()).exit_code, 0);
  CliRun twice = Ipn("keys init --dir " + dir, WithPassphrase());
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.err.find("already holds a key ring"), std::string::npos) << twice.err;
}

}  // namespace
}  // namespace ipn::symbol
