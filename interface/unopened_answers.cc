// UnopenedAnswers: answers held until their sender is vouched for (see unopened_answers.h).
#include "interface/unopened_answers.h"

namespace ipn::interface {

bool UnopenedAnswers::Hold(const std::string& from, v1::Answer answer, int64_t now_us) {
  if (held_.size() >= options_.max) return false;
  held_.push_back(Held{from, std::move(answer), now_us + options_.ttl_us});
  return true;
}

std::vector<v1::Answer> UnopenedAnswers::Take(const std::string& from) {
  std::vector<v1::Answer> out;
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->from != from) {
      ++it;
      continue;
    }
    out.push_back(std::move(it->answer));
    it = held_.erase(it);
  }
  return out;
}

size_t UnopenedAnswers::Expire(int64_t now_us) {
  size_t dropped = 0;
  while (!held_.empty() && held_.front().until_us <= now_us) {
    held_.pop_front();
    ++dropped;
  }
  return dropped;
}

}  // namespace ipn::interface
