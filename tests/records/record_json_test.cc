// Tests of records/record_json: the exact field names and order that `ipn records pull`
// and `ipn oversight pull` share, and the way back.
#include "records/record_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ipn::records {
namespace {

Record Sample() {
  Record r;
  r.sequence = 42;
  r.time_unix_us = int64_t{1709164800} * 1000000 + 7;  // 2024-02-29T00:00:00.000007Z
  r.event = Event::kInquiryAccepted;
  r.record_symbol.fill(0xAB);
  r.inquirer = "AG0001001";
  r.provider = "MUN-131016";
  r.business = "np-benefit";
  r.item = "local-tax";
  r.request_id = "req-1";
  r.outcome = "PROVIDED";
  r.non_disclosure = true;
  return r;
}

TEST(RecordJsonTest, FieldNamesAndOrderAreFixed) {
  std::string symbol_hex;
  for (int i = 0; i < 32; ++i) symbol_hex += "ab";
  const nlohmann::ordered_json j = RecordToJson(Sample());
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"sequence", "time_unix_us", "time", "event", "inquirer",
                                            "provider", "business", "item", "request_id", "outcome",
                                            "non_disclosure", "record_symbol"}));
  EXPECT_FALSE(j.contains("time_us"));
  EXPECT_EQ(j.dump(),
            "{\"sequence\":42,\"time_unix_us\":1709164800000007,"
            "\"time\":\"2024-02-29T00:00:00.000007Z\",\"event\":\"inquiry_accepted\","
            "\"inquirer\":\"AG0001001\",\"provider\":\"MUN-131016\","
            "\"business\":\"np-benefit\",\"item\":\"local-tax\",\"request_id\":\"req-1\","
            "\"outcome\":\"PROVIDED\",\"non_disclosure\":true,\"record_symbol\":\"" +
                symbol_hex + "\"}");
}

TEST(RecordJsonTest, AddsToAnExistingObject) {
  nlohmann::ordered_json j;
  j["type"] = "record";
  AddRecordFields(Sample(), j);
  j["inclusion_path"] = nlohmann::ordered_json::array();
  EXPECT_EQ(j.begin().key(), "type");
  EXPECT_EQ(j["sequence"], 42);
  EXPECT_EQ(j.size(), 14u);
}

TEST(RecordJsonTest, RoundTrips) {
  const Record r = Sample();
  Result<Record> back = RecordFromJson(nlohmann::json::parse(RecordToJson(r).dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->sequence, r.sequence);
  EXPECT_EQ(back->time_unix_us, r.time_unix_us);
  EXPECT_EQ(back->event, r.event);
  EXPECT_EQ(back->record_symbol, r.record_symbol);
  EXPECT_EQ(back->inquirer, r.inquirer);
  EXPECT_EQ(back->provider, r.provider);
  EXPECT_EQ(back->business, r.business);
  EXPECT_EQ(back->item, r.item);
  EXPECT_EQ(back->request_id, r.request_id);
  EXPECT_EQ(back->outcome, r.outcome);
  EXPECT_EQ(back->non_disclosure, r.non_disclosure);
}

TEST(RecordJsonTest, RefusesMissingAndMalformedFields) {
  nlohmann::json j = nlohmann::json::parse(RecordToJson(Sample()).dump());
  nlohmann::json no_time = j;
  no_time.erase("time_unix_us");
  Result<Record> r = RecordFromJson(no_time);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("lacks a field"), std::string::npos);

  nlohmann::json old_name = no_time;
  old_name["time_us"] = 5;  // the old `ipn records pull` name is not read
  EXPECT_FALSE(RecordFromJson(old_name).ok());

  nlohmann::json bad_event = j;
  bad_event["event"] = "no-such-event";
  ASSERT_FALSE(RecordFromJson(bad_event).ok());
  EXPECT_EQ(RecordFromJson(bad_event).status().message(), "unknown event");

  nlohmann::json short_symbol = j;
  short_symbol["record_symbol"] = "abcd";
  ASSERT_FALSE(RecordFromJson(short_symbol).ok());
  EXPECT_EQ(RecordFromJson(short_symbol).status().message(),
            "field record_symbol must be 64 hex characters");

  nlohmann::json no_symbol = j;
  no_symbol.erase("record_symbol");
  EXPECT_EQ(RecordFromJson(no_symbol).status().message(), "missing field record_symbol");
}

}  // namespace
}  // namespace ipn::records
