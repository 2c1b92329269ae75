// PullOnce: query from the desk's size, stage each page's records, commit at the end.
#include "oversight/desk_puller.h"

#include "oversight/pulled_set.h"

namespace ipn::oversight {
namespace {

constexpr uint64_t kMaxPages = 1'000'000;  // 10^9 records at most per round

Status StagePage(const v1::RecordPage& page, DeskStore& desk) {
  std::vector<records::Record> records;
  records.reserve(static_cast<size_t>(page.records_size()));
  for (const v1::ProvisionRecordView& v : page.records()) {
    Result<PulledRecord> r = FromView(v);
    if (!r.ok()) return r.status();
    records.push_back(std::move(r->record));
  }
  return desk.Stage(records);
}

}  // namespace

Result<PullRound> PullOnce(RecordSource& source, DeskStore& desk, int64_t now_unix_us,
                           const DeskPullOptions& options) {
  IPN_RETURN_IF_ERROR(desk.DropStaged());  // a round starts from what is verified
  PullRound round;
  const uint64_t start = desk.size();
  v1::RecordQuery q;
  q.set_from_sequence(start);
  q.set_page_size(options.page_size);
  if (!options.audit_head.empty()) q.set_desk_audit_head(options.audit_head);
  std::optional<records::SignedTreeHead> head;
  for (;;) {
    if (++round.pages > kMaxPages) {
      (void)desk.DropStaged();
      return Status::ResourceExhausted("the pull did not end after " + std::to_string(kMaxPages) +
                                       " pages");
    }
    Result<v1::RecordPage> page = source.Query(q);
    Status s = page.ok() ? Status::Ok() : page.status();
    Result<records::SignedTreeHead> page_head =
        page.ok() ? FromView(page->tree_head()) : Result<records::SignedTreeHead>(s);
    if (s.ok()) s = page_head.status();
    // Every page of one pull carries the head it started with; another is the core's error
    // or a lie, and the commit below would refuse it anyway.
    if (s.ok() && head && !(*head == *page_head)) {
      s = Status::InvalidArgument("a page of the pull carries another head");
    }
    if (s.ok()) {
      s = StagePage(*page, desk);
      // A record missing from the core's pages (a gap, one out of order, or one that cannot
      // be read): the head cannot cover what was staged, so the commit refuses it and
      // records the finding. (The staging bound is ResourceExhausted: no finding.)
      if (!s.ok() && s.code() == Status::Code::kInvalidArgument) {
        Status refused = desk.Commit(*page_head, now_unix_us);
        return refused.ok() ? s : refused.WithContext(s.message());
      }
    }
    if (!s.ok()) {
      const uint64_t at = start + desk.staged();
      (void)desk.DropStaged();
      return s.WithContext("pulling at sequence " + std::to_string(at));
    }
    head = *page_head;
    if (options.progress) options.progress(desk.staged(), head->tree_size - start);
    if (page->next_page_token().empty()) break;
    q.set_page_token(page->next_page_token());
  }
  round.head_size = head->tree_size;
  // Nothing new and the same root: nothing to commit (a newer signature adds nothing). The
  // same size with another root goes to the commit, which refuses it as inconsistent.
  if (head->tree_size == start && desk.head() && desk.head()->root_hash == head->root_hash) {
    return round;
  }
  IPN_RETURN_IF_ERROR(desk.Commit(*head, now_unix_us));
  round.added = head->tree_size - start;
  return round;
}

}  // namespace ipn::oversight
