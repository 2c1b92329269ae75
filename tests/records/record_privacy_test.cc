// No record field reaches the disk in plain text: records whose every field carries a
// marker are appended, the store is closed, and every file of its directory (SST, WAL,
// MANIFEST, LOG, OPTIONS) is scanned for the marker.
#include <gtest/gtest.h>

#include "records/record_store.h"
#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::records {
namespace {

TEST(RecordPrivacyTest, NoFieldAppearsInPlainTextInAnyFile) {
  ipn::testing::TempDir dir;
  testing::TestKeys keys;
  const std::string marker = "QX7MARKER";
  const std::string path = dir.Sub("records");
  std::array<uint8_t, 32> symbol = testing::Symbol(1);
  {
    Result<std::unique_ptr<RecordStore>> store = RecordStore::Open(keys.Options(path));
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 200; ++i) {
      Record r;
      r.event = Event::kInquiryRefused;
      r.record_symbol = symbol;
      r.inquirer = "I" + marker;
      r.provider = "P" + marker;
      r.business = "B" + marker;
      r.item = "T" + marker;
      r.request_id = "R" + marker + std::to_string(i);
      r.outcome = "refused: " + marker;
      ASSERT_TRUE((*store)->Append(r).ok());
    }
    // Flush half to SST files, leave the rest in the WAL.
    ASSERT_TRUE((*store)->SignTreeHead().ok());
  }
  ASSERT_FALSE(ipn::testing::ListFilesRecursively(path).empty());
  EXPECT_EQ(ipn::testing::FilesContaining(path, marker), std::vector<std::string>{});
  // Control: the scan does read the data — the record symbol is stored in clear by
  // design (the person index key), so it must be found.
  std::string symbol_bytes(reinterpret_cast<const char*>(symbol.data()), symbol.size());
  EXPECT_FALSE(ipn::testing::FilesContaining(path, symbol_bytes).empty());
}

}  // namespace
}  // namespace ipn::records
