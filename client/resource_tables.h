// The `get` and `stats` tables for tunnels and sessions.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "client/table.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "l2tpagent/v1/l2tpagent.pb.h"

namespace l2tp::cli {

// NAME TUNNEL-ID PEER-ID ENCAP LOCAL REMOTE PHASE AGE
// (+ PORTS GENERATION MESSAGE when wide). When a tunnel is DYNAMIC, CONTROL
// and PEER follow AGE, and wide adds ROLE HELLO-RTT RETRANS before MESSAGE;
// ids the spec leaves 0 are shown as the agent picked or learned them.
Table TunnelTable(const google::protobuf::RepeatedPtrField<l2tpagent::v1::Tunnel>& tunnels, bool wide,
                  absl::Time now);

// NAME TUNNEL SESSION-ID PEER-ID INTERFACE PHASE AGE
// (+ COOKIE SUBLAYER SEQ MTU MESSAGE when wide). When a session belongs to a
// DYNAMIC tunnel, CONTROL follows AGE and wide adds REMOTE-END-ID before
// MESSAGE; ids the spec leaves 0 are shown as the agent picked or learned them.
// When a session is a PPP pseudowire, PPP-PHASE USER ADDRESSES follow
// CONTROL, from its first call (status.ppp_calls); each further call of an
// LNS session gets a row of its own, NAME#2, NAME#3..., with the call's ids,
// interface, age and (wide) last failure, and "-" for what is the session's.
Table SessionTable(const google::protobuf::RepeatedPtrField<l2tpagent::v1::Session>& sessions, bool wide,
                   absl::Time now);

// NAME RX-PKTS RX-BYTES TX-PKTS TX-BYTES RX-ERR TX-ERR SEQ-DISCARDS OOS
// COOKIE-DISCARDS INVALID. Rows are added with AddCountersRow.
Table CountersTable();
void AddCountersRow(const std::string& name, const l2tpagent::v1::Counters& counters, Table* table);

}  // namespace l2tp::cli
