// DemoDataset: generated answers for the demo agencies.
#include "tools/ipn-agency/demo_dataset.h"

#include <sodium.h>

#include <cstring>

namespace ipn::demo {

void DemoDataset::AddPerson(const std::vector<uint8_t>& symbol, const std::string& person_ref) {
  people_[std::string(symbol.begin(), symbol.end())] = person_ref;
}

DatasetAnswer DemoDataset::Answer(const std::string& symbol, const std::string& item) const {
  auto it = people_.find(symbol);
  if (it == people_.end()) return DatasetAnswer{};
  return AnswerFor(it->second, item);
}

DatasetAnswer DemoDataset::AnswerFor(const std::string& person_ref, const std::string& item) const {
  DatasetAnswer a;
  std::string seed = agency_ + "|" + person_ref + "|" + item;
  uint8_t h[8];
  crypto_generichash(h, sizeof(h), reinterpret_cast<const uint8_t*>(seed.data()), seed.size(),
                     nullptr, 0);
  uint64_t v = 0;
  std::memcpy(&v, h, sizeof(v));
  if (v % 10 == 0) return a;  // this person has nothing for this item here
  a.held = true;
  const uint64_t amount = 1'000'000 + (v / 10) % 9'000'000;
  if (item == "local-tax") {
    a.content = "taxable income FY2025: " + std::to_string(amount) + " JPY";
  } else if (item == "resident-record") {
    a.content = "household of " + std::to_string(1 + v % 5) + ", resident since " +
                std::to_string(1970 + v % 50);
  } else if (item == "pension") {
    a.content = "old-age pension: " + std::to_string(amount / 10) + " JPY a year";
  } else if (item == "medical-insurance") {
    a.content = "insured, high-cost benefit paid: " + std::to_string(amount / 20) + " JPY";
  } else if (item == "public-assistance") {
    a.content = "public assistance: " + std::string(v % 2 ? "receiving" : "not receiving");
    a.non_disclosure = (v % 3) == 0;  // the law allows withholding some provisions
  } else {
    a.content = item + ": record " + std::to_string(amount);
  }
  a.content += marker_;
  return a;
}

}  // namespace ipn::demo
