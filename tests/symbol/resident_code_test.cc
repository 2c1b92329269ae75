// Resident code validation: the check digit, every malformed class with its reason, and
// that neither errors nor a wiped object keep the code.
#include "symbol/resident_code.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/symbol/test_codes.h"

namespace ipn::symbol {
namespace {

TEST(ResidentCodeTest, AcceptsTheDocumentedExamples) {
  for (const char* code : {"49428595750", "27957422883", "23015956917"}) {
    EXPECT_EQ(CheckResidentCode(code), ResidentCodeRule::kValid) << code;
    auto parsed = ResidentCode::Parse(code);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(std::string(parsed->digits().begin(), parsed->digits().end()), code);
  }
}

TEST(ResidentCodeTest, CheckDigitFollowsTheWeightsFromTheRight) {
  // 4942859575: from the right 5*2+7*3+5*4+9*5+5*6+8*7+2*2+4*3+9*4+4*5 = 254, 254 % 11 = 1 -> 0.
  EXPECT_EQ(ResidentCodeCheckDigit(std::span<const char, 10>("4942859575", 10)), '0');
  // All zeros: r = 0 -> 0. "0000000001": 1*2 = 2 -> 11 - 2 = 9.
  EXPECT_EQ(ResidentCodeCheckDigit(std::span<const char, 10>("0000000000", 10)), '0');
  EXPECT_EQ(ResidentCodeCheckDigit(std::span<const char, 10>("0000000001", 10)), '9');
  // "1000000000": leftmost digit has weight 5 -> r = 5 -> 6.
  EXPECT_EQ(ResidentCodeCheckDigit(std::span<const char, 10>("1000000000", 10)), '6');
}

TEST(ResidentCodeTest, EveryWrongCheckDigitIsRejected) {
  for (const auto& code : testing::DistinctResidentCodes(200)) {
    for (char d = '0'; d <= '9'; ++d) {
      if (d == code[10]) continue;
      std::string wrong = code;
      wrong[10] = d;
      EXPECT_EQ(CheckResidentCode(wrong), ResidentCodeRule::kBadCheckDigit);
    }
  }
}

struct MalformedCase {
  const char* name;
  std::string input;
  ResidentCodeRule rule;
  const char* reason_fragment;
};

TEST(ResidentCodeTest, EveryMalformedClassIsRejectedWithItsReason) {
  const std::vector<MalformedCase> cases = {
      {"empty", "", ResidentCodeRule::kEmpty, "empty"},
      {"too short", "4942859575", ResidentCodeRule::kWrongLength, "exactly 11 digits"},
      {"too long", "494285957501", ResidentCodeRule::kWrongLength, "exactly 11 digits"},
      {"letter", "4942859575A", ResidentCodeRule::kNonDigit, "not a digit"},
      {"space inside", "49428 95750", ResidentCodeRule::kNonDigit, "not a digit"},
      {"leading space", " 49428595750", ResidentCodeRule::kNonDigit, "not a digit"},
      {"trailing newline", "49428595750\n", ResidentCodeRule::kNonDigit, "not a digit"},
      {"hyphen", "4942-8595750", ResidentCodeRule::kNonDigit, "not a digit"},
      {"sign", "+49428595750", ResidentCodeRule::kNonDigit, "not a digit"},
      {"nul byte", std::string("4942859") + '\0' + "750", ResidentCodeRule::kNonDigit,
       "not a digit"},
      {"full-width digits", "４９４２８５９５７５０", ResidentCodeRule::kFullWidthDigit,
       "full-width"},
      {"one full-width digit", "4942859575０", ResidentCodeRule::kFullWidthDigit, "full-width"},
      {"arabic-indic digit", "494285957٥0", ResidentCodeRule::kNonDigit, "not a digit"},
      {"bad check digit", "49428595751", ResidentCodeRule::kBadCheckDigit, "check digit"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(CheckResidentCode(c.input), c.rule);
    auto parsed = ResidentCode::Parse(c.input);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(c.reason_fragment), std::string::npos)
        << parsed.status().message();
    EXPECT_NE(parsed.status().message().find("resident code"), std::string::npos);
  }
}

TEST(ResidentCodeTest, ErrorsNeverEchoTheInput) {
  // A code with a wrong check digit, and one with a trailing letter: the message must not
  // contain the digits (or any 5-digit run of them).
  for (std::string input : {"49428595751", "4942859575X", "494285957501"}) {
    auto parsed = ResidentCode::Parse(input);
    ASSERT_FALSE(parsed.ok());
    const std::string& message = parsed.status().ToString();
    for (size_t i = 0; i + 5 <= input.size(); ++i) {
      EXPECT_EQ(message.find(input.substr(i, 5)), std::string::npos) << message;
    }
  }
}

TEST(ResidentCodeTest, WipeZeroesTheDigitsAndMovesLeaveNoCopy) {
  auto parsed = ResidentCode::Parse("27957422883");
  ASSERT_TRUE(parsed.ok());
  ResidentCode code = std::move(parsed).value();
  EXPECT_FALSE(code.wiped());
  ResidentCode moved = std::move(code);
  EXPECT_TRUE(code.wiped());  // NOLINT(bugprone-use-after-move): moving wipes the source
  EXPECT_TRUE(code.digits().empty());
  ASSERT_EQ(moved.digits().size(), 11u);
  const uint8_t* storage = moved.digits().data();
  moved.Wipe();
  EXPECT_TRUE(moved.wiped());
  EXPECT_TRUE(moved.digits().empty());
  for (int i = 0; i < 11; ++i) EXPECT_EQ(storage[i], 0) << i;  // the object is still alive
}

}  // namespace
}  // namespace ipn::symbol
