// The portal's card accounts without a server: EnrolmentStore (a card's link, then its
// enrolment, sealed at rest) and LoginService (single-use challenges, sessions per card).
#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/clock.h"
#include "portal/enrolment_store.h"
#include "portal/login.h"
#include "tests/support/temp_dir.h"

namespace ipn::portal {
namespace {

constexpr int64_t kT0 = 1'796'000'000'000'000;  // 2026-11-30, in µs
const std::vector<uint8_t> kSymbolA(32, 0xA5);
const std::vector<uint8_t> kSymbolB(32, 0x5B);

TEST(CardEnrolmentStore, ACardIsLinkedThenEnrolledOnceAndOnlyALinkedCardEnrols) {
  ipn::testing::TempDir dir;
  auto store = EnrolmentStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EnrolmentStore& s = **store;
  EXPECT_EQ(s.Find("0a1b").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(s.Enrol("0a1b", kT0).status().code(), Status::Code::kNotFound);

  ASSERT_TRUE(s.Link("0a1b", kSymbolA, kT0).ok());
  Result<Enrolment> linked = s.Find("0a1b");
  ASSERT_TRUE(linked.ok());
  EXPECT_EQ(linked->agency_symbol, kSymbolA);
  EXPECT_EQ(linked->linked_unix_us, kT0);
  EXPECT_EQ(linked->enrolled_unix_us, 0);

  Result<Enrolment> enrolled = s.Enrol("0a1b", kT0 + 5);
  ASSERT_TRUE(enrolled.ok());
  EXPECT_EQ(enrolled->agency_symbol, kSymbolA);
  EXPECT_EQ(enrolled->enrolled_unix_us, kT0 + 5);
  EXPECT_EQ(s.Enrol("0a1b", kT0 + 6).status().code(), Status::Code::kAlreadyExists);

  // Linked again (the issuer re-linked the card): the new symbol, the enrolment kept.
  ASSERT_TRUE(s.Link("0a1b", kSymbolB, kT0 + 9).ok());
  Result<Enrolment> relinked = s.Find("0a1b");
  ASSERT_TRUE(relinked.ok());
  EXPECT_EQ(relinked->agency_symbol, kSymbolB);
  EXPECT_EQ(relinked->linked_unix_us, kT0 + 9);
  EXPECT_EQ(relinked->enrolled_unix_us, kT0 + 5);
  // Another card is another entry.
  EXPECT_EQ(s.Find("0a1c").status().code(), Status::Code::kNotFound);
  // Bad serials and empty symbols are refused, not stored.
  EXPECT_EQ(s.Link("", kSymbolA, kT0).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.Link(std::string(65, 'f'), kSymbolA, kT0).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.Link("0a1d", {}, kT0).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.Find("0a1d").status().code(), Status::Code::kNotFound);
}

TEST(CardEnrolmentStore, EntriesSurviveAReopenAndNoSymbolIsOnDiskInClear) {
  ipn::testing::TempDir dir;
  {
    auto store = EnrolmentStore::Open(dir.path());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Link("77", kSymbolA, kT0).ok());
    ASSERT_TRUE((*store)->Enrol("77", kT0 + 1).ok());
  }
  auto store = EnrolmentStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  Result<Enrolment> e = (*store)->Find("77");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->agency_symbol, kSymbolA);
  EXPECT_EQ(e->enrolled_unix_us, kT0 + 1);
  store->reset();
  const std::string needle(kSymbolA.begin(), kSymbolA.begin() + 16);
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir.path())) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(needle), std::string::npos) << f.path();
  }
}

TEST(CardLoginService, AChallengeIsUsedOnceAndExpires) {
  ManualClock clock(kT0);
  LoginService login(&clock);
  const std::array<uint8_t, 32> c = login.NewChallenge();
  EXPECT_TRUE(login.ConsumeChallenge(c).ok());
  EXPECT_EQ(login.ConsumeChallenge(c).code(), Status::Code::kPermissionDenied);  // replayed
  const std::array<uint8_t, 32> late = login.NewChallenge();
  clock.Advance(kChallengeLifetimeUs);
  EXPECT_EQ(login.ConsumeChallenge(late).code(), Status::Code::kPermissionDenied);  // expired
  std::array<uint8_t, 32> made_up{};
  randombytes_buf(made_up.data(), made_up.size());
  EXPECT_EQ(login.ConsumeChallenge(made_up).code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(login.ConsumeChallenge(std::span<const uint8_t>(made_up.data(), 31)).code(),
            Status::Code::kInvalidArgument);
}

TEST(CardLoginService, ASessionNamesItsCardUntilItExpiresOrLogsOut) {
  ManualClock clock(kT0);
  LoginService login(&clock);
  const std::string a = login.OpenSession("card-serial-a");
  const std::string b = login.OpenSession("card-serial-b");
  EXPECT_NE(a, b);
  EXPECT_EQ(*login.SessionOwner(a), "card-serial-a");
  EXPECT_EQ(*login.SessionOwner(b), "card-serial-b");
  EXPECT_EQ(login.SessionOwner("not-a-token").status().code(), Status::Code::kPermissionDenied);
  login.Logout(a);
  EXPECT_EQ(login.SessionOwner(a).status().code(), Status::Code::kPermissionDenied);
  clock.Advance(kSessionLifetimeUs);
  EXPECT_EQ(login.SessionOwner(b).status().code(), Status::Code::kPermissionDenied);
}

}  // namespace
}  // namespace ipn::portal
