// DemoDataset: the small local dataset a demo agency answers from. Each person the
// agency was issued a symbol for has, per item, a value generated from the agency's
// own person reference; about one person in ten holds nothing for an item.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ipn::demo {

struct DatasetAnswer {
  bool held = false;
  std::string content;
  bool non_disclosure = false;
};

class DemoDataset {
 public:
  DemoDataset(std::string agency, std::string marker)
      : agency_(std::move(agency)), marker_(std::move(marker)) {}
  void AddPerson(const std::vector<uint8_t>& symbol, const std::string& person_ref);
  // Nothing held when the symbol is unknown (never issued here) or the person has no value.
  DatasetAnswer Answer(const std::string& symbol, const std::string& item) const;
  // The answer for the person the agency knows as `person_ref` (what Answer gives once
  // the symbol is looked up). The demo uses it to pick a citizen with a withheld provision.
  DatasetAnswer AnswerFor(const std::string& person_ref, const std::string& item) const;
  size_t size() const { return people_.size(); }

 private:
  std::string agency_;
  std::string marker_;
  std::map<std::string, std::string> people_;  // binary symbol -> person reference
};

}  // namespace ipn::demo
