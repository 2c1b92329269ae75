// Helpers for the policy tests: an administrator key, bundles built from the demo data or
// from small CSV sources, and JST times.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "policy/bundle.h"
#include "policy/compiler.h"
#include "policy/demo_policy.h"
#include "policy/jst_date.h"
#include "policy/policy.h"
#include "policy/policy_store.h"

namespace ipn::policy::testing {

// 00:00:00 JST of `date` plus `offset_us`.
inline int64_t Jst(const std::string& date, int64_t offset_us = 0) {
  auto start = JstDayStartMicros(date);
  EXPECT_TRUE(start.ok()) << date;
  return *start + offset_us;
}

// Noon JST on `date`.
inline int64_t JstNoon(const std::string& date) {
  return Jst(date, kMicrosPerDay / 2);
}

// A signed bundle of the demo policy.
inline std::vector<uint8_t> DemoBundle(
    const AdminKeyPair& admin, uint64_t version,
    const std::map<std::string, AgencyOverride>& overrides = {}) {
  auto bundle = BuildDemoBundle(overrides, version, admin.secret_key.span());
  EXPECT_TRUE(bundle.ok()) << bundle.status().ToString();
  return bundle.ok() ? *bundle : std::vector<uint8_t>{};
}

// The demo source with one file replaced.
inline PolicySource DemoWith(const std::string& file, const std::string& contents) {
  PolicySource source = DemoPolicySource();
  source.files[file] = contents;
  return source;
}

// A signed bundle compiled from `source`.
inline Result<std::vector<uint8_t>> SignedFrom(const PolicySource& source,
                                               const AdminKeyPair& admin, uint64_t version) {
  auto compiled = CompilePolicy(source, version);
  if (!compiled.ok()) return compiled.status();
  return SignBundle(*compiled, admin.secret_key.span());
}

// The Policy of a freshly loaded store (one version, one key).
inline std::shared_ptr<const Policy> LoadPolicy(const PolicySource& source) {
  AdminKeyPair admin = GenerateAdminKeyPair();
  auto bundle = SignedFrom(source, admin, 1);
  EXPECT_TRUE(bundle.ok()) << bundle.status().ToString();
  if (!bundle.ok()) return nullptr;
  PolicyStore store(admin.public_key);
  Status s = store.Load(*bundle);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store.Current();
}

inline std::shared_ptr<const Policy> DemoPolicy(
    const std::map<std::string, AgencyOverride>& overrides = {}) {
  AdminKeyPair admin = GenerateAdminKeyPair();
  PolicyStore store(admin.public_key);
  Status s = store.Load(DemoBundle(admin, 1, overrides));
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store.Current();
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace ipn::policy::testing
