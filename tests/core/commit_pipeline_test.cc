// CommitPipeline over a real RecordStore: messages are released only once their records
// are durable, batch by batch, in order.
#include "core/commit_pipeline.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sodium.h>

#include "tests/support/temp_dir.h"

namespace ipn::core {
namespace {

records::Record MakeRecord(const std::string& request_id) {
  records::Record r;
  r.event = records::Event::kInquiryAccepted;
  r.record_symbol.fill(7);
  r.inquirer = "PEN-0001";
  r.provider = "MUN-131016";
  r.business = "np-benefit";
  r.item = "local-tax";
  r.request_id = request_id;
  r.outcome = "ACCEPTED";
  return r;
}

Outbox Message(const std::string& to, const std::string& request_id) {
  v1::Envelope e;
  e.set_request_id(request_id);
  return {{to, e}};
}

TEST(CommitPipelineTest, ReleasesEachOutboxAfterItsRecordsAreDurableInOrder) {
  testing::TempDir dir;
  records::RecordStoreOptions o;
  o.dir = dir.Sub("records");
  o.encryption_keys.emplace_back(1, SecretBytes::Random(32));
  uint8_t pk[32];
  o.signing_secret_key = SecretBytes(64);
  crypto_sign_keypair(pk, o.signing_secret_key.data());
  auto store = records::RecordStore::Open(std::move(o));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  SystemClock clock;
  Metrics metrics;
  CommitPipeline pipeline(store->get(), &metrics.GetHistogram("t", "t"), &clock);
  ASSERT_TRUE(pipeline.Init().ok());

  pipeline.Submit({MakeRecord("a1"), MakeRecord("a2")}, Message("X", "a"), {1});
  pipeline.Submit({MakeRecord("b1")}, Message("Y", "b"), {2});
  EXPECT_EQ(pipeline.in_flight(), 2u);

  std::vector<CommitPipeline::Released> released;
  while (released.size() < 2) {
    pollfd p{pipeline.wake_fd(), POLLIN, 0};
    ASSERT_GT(poll(&p, 1, 10000), 0) << "the pipeline never woke the loop";
    ASSERT_TRUE(pipeline.TakeDurable(&released).ok());
    // Whatever was released is on disk already: batch a holds 2 records, batch b 1.
    if (!released.empty()) {
      EXPECT_GE((*store)->Size(), released.size() == 1 ? 2u : 3u);
    }
  }
  ASSERT_EQ(released.size(), 2u);
  EXPECT_EQ(released[0].outbox[0].second.request_id(), "a");
  EXPECT_EQ(released[0].tags, std::vector<int64_t>{1});
  EXPECT_EQ(released[1].outbox[0].second.request_id(), "b");
  EXPECT_EQ(pipeline.in_flight(), 0u);
  EXPECT_EQ((*store)->Size(), 3u);
}

}  // namespace
}  // namespace ipn::core
