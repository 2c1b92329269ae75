// AutoAnswer: how the middle server answers a forwarded inquiry for one of its tenants
// from the tenant's registered copies, with no program of the agency running (DESIGN.md
// §9): the provider's symbol names a person through the tenant's person map, the item
// names the copy; provided (with the content and the non-disclosure flag), not held (a
// known person without that copy), or failed (a symbol the person map does not know: the
// platform missed its issuance, and "not held" could be false; or an item the tenant
// answers by hand, whose system is not connected).
// With `exchanges`, the provision goes to the tenant's exchange log too (no content).
// A function of the store: unit-tested without sockets (tests/middle).
#pragma once

#include <string_view>

#include "ipn/v1/wire.pb.h"
#include "middle/exchange_log.h"
#include "middle/middle_store.h"

namespace ipn::middle {

v1::AgencyAnswer AutoAnswer(const MiddleStore& store, std::string_view tenant,
                            const v1::ForwardedInquiry& inquiry, ExchangeLog* exchanges = nullptr);

}  // namespace ipn::middle
