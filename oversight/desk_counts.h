// The desk's counts, kept in DeskStore's "counts" column family (oversight/desk_store.h):
//   M<month>\0inquirer\0business\0item\0<event>\0reason    a month's counts, every field
//   D<day>\0…                                              the same by JST day
//   I<day>\0inquirer  B<day>\0business  T<day>\0item        a day's totals by one field
//   E<day>\0<event>\0reason                                (for the grouped views)
// each → u64 big-endian; <event> is one byte, 'A' + records::Event; reason only for
// refusals (at most 64 bytes). Internal to the desk store.
#pragma once

#include <rocksdb/db.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "oversight/desk_store.h"

namespace ipn::oversight::desk {

inline constexpr size_t kMaxReasonBytes = 64;

// Adds one to each count `r` falls in (its month, its day, its day by each one field).
// `key`: scratch.
void AddCounts(const records::Record& r, const std::string& month, const std::string& day,
               std::unordered_map<std::string, uint64_t>* delta, std::string* key);

// A view (VolumeQuery) read from the counts family; `reserve`: rows to make room for.
Result<std::vector<VolumeRow>> ReadVolumes(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* counts,
                                           const VolumeQuery& q, size_t reserve);

}  // namespace ipn::oversight::desk
