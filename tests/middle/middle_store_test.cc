// The middle-server platform's store: copies and person maps per tenant, each tenant's
// data under its own key, bulk files all or nothing, nothing in the clear on disk.
#include "middle/middle_store.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "tests/support/softhsm.h"
#include "tests/support/temp_dir.h"
#include "token/pkcs11_token.h"

namespace ipn::middle {
namespace {

constexpr char kMun[] = "MUN-131016";
constexpr char kPen[] = "PEN-0001";

std::unique_ptr<KeyWrapper> FileWrapper() {
  auto w = MakeSodiumWrapper(SecretBytes::Random(32), "file:platform.key");
  EXPECT_TRUE(w.ok());
  return std::move(*w);
}

Copy MakeCopy(const std::string& person, const std::string& item, const std::string& content,
              bool withheld = false) {
  return Copy{person, item, content, "2026-04-01", withheld, 0};
}

class MiddleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    platform_ = FileWrapper();
    Reopen();
  }
  void Reopen() {
    store_.reset();
    auto opened = MiddleStore::Open(dir_.Sub("middle"), platform_.get());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
  }
  ipn::testing::TempDir dir_;
  std::unique_ptr<KeyWrapper> platform_;
  std::unique_ptr<MiddleStore> store_;
};

TEST_F(MiddleStoreTest, ACopyIsRegisteredSupersededAndDeleted) {
  ASSERT_TRUE(store_->CreateTenant(kMun).ok());
  EXPECT_EQ(store_->CreateTenant(kMun).code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(store_->Register(kMun, MakeCopy("P-1", "local-tax", "2026 tax: 120,000 yen")).value(),
            1u);
  EXPECT_EQ(store_->Register(kMun, MakeCopy("P-1", "local-tax", "again")).status().code(),
            Status::Code::kAlreadyExists);
  EXPECT_EQ(
      store_->Supersede(kMun, MakeCopy("P-1", "local-tax", "2026 tax: 98,000 yen", true)).value(),
      2u);
  EXPECT_EQ(store_->Supersede(kMun, MakeCopy("P-2", "local-tax", "x")).status().code(),
            Status::Code::kNotFound);
  Reopen();
  Result<Copy> found = store_->Find(kMun, "P-1", "local-tax");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->content, "2026 tax: 98,000 yen");
  EXPECT_EQ(found->version, 2u);
  EXPECT_TRUE(found->non_disclosure);
  EXPECT_EQ(found->as_of, "2026-04-01");
  ASSERT_TRUE(store_->Delete(kMun, "P-1", "local-tax").ok());
  EXPECT_EQ(store_->Find(kMun, "P-1", "local-tax").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->Delete(kMun, "P-1", "local-tax").code(), Status::Code::kNotFound);
  // Bad input is refused with what is wrong, nothing stored.
  EXPECT_EQ(store_->Register(kMun, Copy{"P 1", "local-tax", "x", "2026-04-01", false, 0})
                .status()
                .message(),
            "a person number is 1 to 32 of A-Z a-z 0-9 -");
  EXPECT_EQ(store_->Register(kMun, Copy{"P-1", "local-tax", "x", "2026-02-30", false, 0})
                .status()
                .message(),
            "as_of must be a date, YYYY-MM-DD");
  EXPECT_EQ(store_->Register(kMun, MakeCopy("P-1", "local-tax", std::string(16 * 1024 + 1, 'x')))
                .status()
                .code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->Register("MUN-999", MakeCopy("P-1", "local-tax", "x")).status().message(),
            "no tenant MUN-999 on this platform");
}

TEST_F(MiddleStoreTest, EachTenantIsSealedUnderItsOwnKeyAndDestroyingOneLeavesTheOthers) {
  ASSERT_TRUE(store_->CreateTenant(kMun).ok());
  ASSERT_TRUE(store_->CreateTenant(kPen).ok());
  ASSERT_TRUE(
      store_->Register(kMun, MakeCopy("MUNPERSON-77", "local-tax", "MARKER-MUN-CONTENT")).ok());
  ASSERT_TRUE(
      store_->Register(kPen, MakeCopy("PENPERSON-88", "pension", "MARKER-PEN-CONTENT")).ok());
  ASSERT_TRUE(store_->Bind(kMun, "MUNPERSON-77", "SYMBOL-MUN-77").ok());
  ASSERT_TRUE(store_->SetByHandItems(kMun, {"resident-record"}).ok());
  ASSERT_TRUE(store_
                  ->PutOrdered(MiddleStore::Ordered::kExchange, kMun,
                               {{std::string(8, '\1'), "MARKER-MUN-EXCHANGE"}})
                  .ok());
  // The same person number and item at another tenant is another row, another key.
  EXPECT_EQ(store_->Find(kPen, "MUNPERSON-77", "local-tax").status().code(),
            Status::Code::kNotFound);
  Reopen();  // flushes nothing by itself; scan the files RocksDB wrote (WAL and tables)
  for (const char* marker :
       {"MARKER-MUN-CONTENT", "MARKER-PEN-CONTENT", "MUNPERSON-77", "PENPERSON-88", "SYMBOL-MUN-77",
        "local-tax", "resident-record", "MARKER-MUN-EXCHANGE"}) {
    EXPECT_TRUE(ipn::testing::FilesContaining(dir_.path(), marker).empty()) << marker;
  }
  ASSERT_TRUE(store_->DestroyTenant(kMun).ok());
  EXPECT_EQ(store_->Find(kMun, "MUNPERSON-77", "local-tax").status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ(store_->SymbolOf(kMun, "MUNPERSON-77").status().code(), Status::Code::kNotFound);
  Reopen();
  EXPECT_EQ(store_->Tenants(), std::vector<std::string>{kPen});
  EXPECT_EQ(store_->Find(kPen, "PENPERSON-88", "pension").value().content, "MARKER-PEN-CONTENT");
  EXPECT_EQ(store_->DestroyTenant(kMun).code(), Status::Code::kNotFound);
  // A tenant of the same name later starts empty, under a new key: no copy, no by-hand
  // item, no exchange left over (each would fail to open under the new key).
  ASSERT_TRUE(store_->CreateTenant(kMun).ok());
  EXPECT_EQ(store_->Find(kMun, "MUNPERSON-77", "local-tax").status().code(),
            Status::Code::kNotFound);
  EXPECT_TRUE(store_->ByHandItems(kMun).value().empty());
  EXPECT_TRUE(
      store_->ListOrdered(MiddleStore::Ordered::kExchange, kMun, "", "", 10).value().empty());
}

TEST_F(MiddleStoreTest, ABadRowAppliesNothingOfTheFile) {
  ASSERT_TRUE(store_->CreateTenant(kMun).ok());
  ASSERT_TRUE(store_->Register(kMun, MakeCopy("P-1", "local-tax", "old")).ok());
  const std::string bad =
      "person,item,content,as_of,non_disclosure\n"
      "P-1,local-tax,new,2026-05-01,false\n"
      "P-2,local-tax,\"two, with a comma\",2026-05-01,true\n"
      "P-3,local-tax,three,2026-13-01,false\n";
  auto refused = store_->Import(kMun, bad, ImportFormat::kCsv);
  EXPECT_EQ(refused.status().message(), "line 4: as_of must be a date, YYYY-MM-DD");
  EXPECT_EQ(store_->Find(kMun, "P-1", "local-tax").value().content, "old");
  EXPECT_EQ(store_->Find(kMun, "P-2", "local-tax").status().code(), Status::Code::kNotFound);
  const std::string twice =
      "person,item,content,as_of,non_disclosure\n"
      "P-2,local-tax,a,2026-05-01,false\n"
      "P-2,local-tax,b,2026-05-01,false\n";
  EXPECT_EQ(store_->Import(kMun, twice, ImportFormat::kCsv).status().message(),
            "line 3: a second row for the same person and item in this file");

  const std::string good = bad.substr(0, bad.rfind("P-3"));
  ASSERT_EQ(store_->Import(kMun, good, ImportFormat::kCsv).value(), 2u);
  EXPECT_EQ(store_->Find(kMun, "P-1", "local-tax").value().version, 2u);  // superseded
  Result<Copy> two = store_->Find(kMun, "P-2", "local-tax");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->content, "two, with a comma");
  EXPECT_TRUE(two->non_disclosure);
  EXPECT_EQ(two->version, 1u);

  const std::string lines =
      "{\"person\":\"P-4\",\"item\":\"pension\",\"content\":\"four\",\"as_of\":\"2026-05-01\"}\n"
      "{\"person\":\"P-5\",\"item\":\"pension\",\"content\":5,\"as_of\":\"2026-05-01\"}\n";
  EXPECT_EQ(store_->Import(kMun, lines, ImportFormat::kJsonLines).status().message(),
            "line 2: content must be a string");
  EXPECT_EQ(store_->Find(kMun, "P-4", "pension").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->Import(kMun, "{not json\n", ImportFormat::kJsonLines).status().message(),
            "line 1: not a JSON object");
}

TEST_F(MiddleStoreTest, AThousandCopiesFromOneCsvInOneWrite) {
  ASSERT_TRUE(store_->CreateTenant(kMun).ok());
  std::string csv = "person,item,content,as_of,non_disclosure\n";
  for (int i = 0; i < 1000; ++i) {
    csv += "P-" + std::to_string(i) + ",local-tax,tax of " + std::to_string(i) + ",2026-04-01," +
           (i % 10 == 0 ? "true" : "false") + "\n";
  }
  ASSERT_EQ(store_->Import(kMun, csv, ImportFormat::kCsv).value(), 1000u);
  Reopen();
  for (int i : {0, 1, 499, 999}) {
    Result<Copy> c = store_->Find(kMun, "P-" + std::to_string(i), "local-tax");
    ASSERT_TRUE(c.ok()) << i;
    EXPECT_EQ(c->content, "tax of " + std::to_string(i));
    EXPECT_EQ(c->non_disclosure, i % 10 == 0);
  }
}

TEST_F(MiddleStoreTest, DestroyingATenantSparesOneWhoseNameItPrefixes) {
  ASSERT_TRUE(store_->CreateTenant("MUN").ok());
  ASSERT_TRUE(store_->CreateTenant("MUN-1").ok());
  ASSERT_TRUE(store_->Register("MUN", MakeCopy("P-1", "local-tax", "short name")).ok());
  ASSERT_TRUE(store_->Register("MUN-1", MakeCopy("P-1", "local-tax", "long name")).ok());
  ASSERT_TRUE(store_->Bind("MUN-1", "P-1", "SYM").ok());
  ASSERT_TRUE(store_->DestroyTenant("MUN").ok());
  Reopen();
  EXPECT_EQ(store_->Find("MUN-1", "P-1", "local-tax").value().content, "long name");
  EXPECT_EQ(store_->SymbolOf("MUN-1", "P-1").value(), "SYM");
  EXPECT_EQ(store_->Tenants(), std::vector<std::string>{"MUN-1"});
}

TEST_F(MiddleStoreTest, JsonLinesAndCsvFlagsImport) {
  ASSERT_TRUE(store_->CreateTenant(kPen).ok());
  const std::string lines =
      "{\"person\":\"P-4\",\"item\":\"pension\",\"content\":\"four\","
      "\"as_of\":\"2026-05-01\",\"non_disclosure\":true}\n"
      "\n"
      "{\"person\":\"P-5\",\"item\":\"pension\",\"content\":\"five\","
      "\"as_of\":\"2026-05-01\"}\n";
  ASSERT_EQ(store_->Import(kPen, lines, ImportFormat::kJsonLines).value(), 2u);
  EXPECT_TRUE(store_->Find(kPen, "P-4", "pension").value().non_disclosure);
  EXPECT_FALSE(store_->Find(kPen, "P-5", "pension").value().non_disclosure);
  const std::string csv =
      "person,item,content,as_of,non_disclosure\n"
      "P-6,pension,six,2026-05-01,1\n"
      "P-7,pension,seven,2026-05-01,0\n"
      "P-8,pension,eight,2026-05-01,\n";
  ASSERT_EQ(store_->Import(kPen, csv, ImportFormat::kCsv).value(), 3u);
  EXPECT_TRUE(store_->Find(kPen, "P-6", "pension").value().non_disclosure);
  EXPECT_FALSE(store_->Find(kPen, "P-7", "pension").value().non_disclosure);
  EXPECT_FALSE(store_->Find(kPen, "P-8", "pension").value().non_disclosure);
  EXPECT_EQ(store_
                ->Import(kPen,
                         "person,item,content,as_of,non_disclosure\n"
                         "P-9,pension,x,2026-05-01,maybe\n",
                         ImportFormat::kCsv)
                .status()
                .message(),
            "line 2: non_disclosure must be true or false");
}

TEST_F(MiddleStoreTest, ThePersonMapBindsBothWaysOnce) {
  ASSERT_TRUE(store_->CreateTenant(kMun).ok());
  ASSERT_TRUE(store_->Bind(kMun, "P-1", "SYM-A").ok());
  ASSERT_TRUE(store_->Bind(kMun, "P-1", "SYM-A").ok());  // the same binding again: fine
  EXPECT_EQ(store_->Bind(kMun, "P-1", "SYM-B").code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(store_->Bind(kMun, "P-2", "SYM-A").code(), Status::Code::kAlreadyExists);
  Reopen();
  EXPECT_EQ(store_->SymbolOf(kMun, "P-1").value(), "SYM-A");
  EXPECT_EQ(store_->PersonOf(kMun, "SYM-A").value(), "P-1");
  EXPECT_EQ(store_->PersonOf(kMun, "SYM-B").status().code(), Status::Code::kNotFound);
}

TEST_F(MiddleStoreTest, TheStoreOpensOnlyWithThePlatformsKey) {
  ASSERT_TRUE(store_->CreateTenant(kMun).ok());
  store_.reset();
  std::unique_ptr<KeyWrapper> other = FileWrapper();
  auto refused = MiddleStore::Open(dir_.Sub("middle"), other.get());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("tenant MUN-131016's key"), std::string::npos);
}

TEST_F(MiddleStoreTest, ThePlatformsKeyMayLiveInAToken) {
  ipn::testing::SoftHsm hsm(dir_);
  ASSERT_TRUE(hsm.InitToken("platform"));
  auto token =
      token::Pkcs11Token::Open({token::kSoftHsmModule, "platform"}, ipn::testing::kTestTokenPin);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  ASSERT_TRUE((*token)->GenerateKek(token::kDefaultKekLabel).ok());
  auto wrapper = (*token)->MakeWrapper(token::kDefaultKekLabel);
  ASSERT_TRUE(wrapper.ok());
  store_.reset();
  {
    auto store = MiddleStore::Open(dir_.Sub("in-token"), wrapper->get());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->CreateTenant(kPen).ok());
    ASSERT_TRUE((*store)->Register(kPen, MakeCopy("P-9", "pension", "monthly 65,000 yen")).ok());
  }
  {
    auto store = MiddleStore::Open(dir_.Sub("in-token"), wrapper->get());
    ASSERT_TRUE(store.ok());
    EXPECT_EQ((*store)->Find(kPen, "P-9", "pension").value().content, "monthly 65,000 yen");
  }
  auto without = MiddleStore::Open(dir_.Sub("in-token"), platform_.get());
  EXPECT_EQ(without.status().code(), Status::Code::kPermissionDenied);
}

}  // namespace
}  // namespace ipn::middle
