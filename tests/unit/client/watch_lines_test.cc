#include "client/watch_lines.h"

#include "gtest/gtest.h"
#include "tests/unit/client/cli_test_support.h"

namespace l2tp::cli {
namespace {

namespace v1 = ::l2tpagent::v1;

TEST(WatchLinesTest, TunnelEvent) {
  v1::WatchEvent e;
  e.set_type(v1::WatchEvent::TYPE_ADDED);
  *e.mutable_tunnel() = testing::SampleTunnel();
  EXPECT_EQ(WatchEventLine(e), "ADDED tunnel/t1 phase=READY gen=2");
}

TEST(WatchLinesTest, SessionEventWithMessage) {
  v1::WatchEvent e;
  e.set_type(v1::WatchEvent::TYPE_MODIFIED);
  *e.mutable_session() = testing::SampleSession();
  EXPECT_EQ(WatchEventLine(e), "MODIFIED session/s1 phase=FAILED gen=1 interface l2tpeth0 exists");
}

TEST(WatchLinesTest, DeletedAndSynced) {
  v1::WatchEvent e;
  e.set_type(v1::WatchEvent::TYPE_DELETED);
  e.mutable_tunnel()->set_name("t9");
  e.mutable_tunnel()->mutable_status()->set_phase(v1::PHASE_DELETING);
  EXPECT_EQ(WatchEventLine(e), "DELETED tunnel/t9 phase=DELETING gen=0");
  v1::WatchEvent synced;
  synced.set_type(v1::WatchEvent::TYPE_SYNCED);
  EXPECT_EQ(WatchEventLine(synced), "--- synced ---");
}

TEST(WatchLinesTest, DynamicTunnelShowsControlState) {
  v1::WatchEvent e;
  e.set_type(v1::WatchEvent::TYPE_MODIFIED);
  *e.mutable_tunnel() = testing::SampleDynamicTunnel();
  EXPECT_EQ(WatchEventLine(e),
            "MODIFIED tunnel/lac phase=READY control=ESTABLISHED gen=2 SCCCN acknowledged");
  auto* status = e.mutable_tunnel()->mutable_status();
  status->set_phase(v1::PHASE_FAILED);
  status->set_message("control connection down");
  status->mutable_tunnel_control()->set_state(v1::CONTROL_STATE_DOWN);
  status->mutable_tunnel_control()->set_message("");
  status->mutable_tunnel_control()->set_last_stop_reason("no reply to HELLO after 5 retries");
  EXPECT_EQ(WatchEventLine(e),
            "MODIFIED tunnel/lac phase=FAILED control=DOWN gen=2 control connection down; "
            "last stop: no reply to HELLO after 5 retries");
}

TEST(WatchLinesTest, DynamicSessionShowsControlState) {
  v1::WatchEvent e;
  e.set_type(v1::WatchEvent::TYPE_ADDED);
  *e.mutable_session() = testing::SampleDynamicSession();
  e.mutable_session()->mutable_status()->mutable_session_control()->set_state(v1::CONTROL_STATE_CONNECTING);
  e.mutable_session()->mutable_status()->mutable_session_control()->set_message("ICRQ sent");
  EXPECT_EQ(WatchEventLine(e), "ADDED session/pw1 phase=READY control=CONNECTING gen=1 ICRQ sent");
}

}  // namespace
}  // namespace l2tp::cli
