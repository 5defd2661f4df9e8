// The TCP listener's connection limits: which connections go, and reading the
// kernel's connection table.
#include "agent/api/tcp_connection_limits.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace l2tp {
namespace {

std::vector<std::pair<uint64_t, std::string>> Closed(const std::vector<ConnectionToClose>& v) {
  std::vector<std::pair<uint64_t, std::string>> out;
  for (const auto& c : v) out.push_back({c.inode, c.reason});
  return out;
}

TEST(TcpConnectionLimits, NewestOverThePerPeerBoundGoFirst) {
  ConnectionLimits limits{.per_peer = 2, .total = 10, .reserve = 0};
  std::vector<TcpConnection> conns = {{30, "A"}, {10, "A"}, {20, "A"}, {15, "B"}, {40, "A"}};
  EXPECT_THAT(Closed(ConnectionsOverLimits(conns, limits)),
              ::testing::ElementsAre(std::pair<uint64_t, std::string>{30, "per_peer"},
                                     std::pair<uint64_t, std::string>{40, "per_peer"}));
}

TEST(TcpConnectionLimits, TotalCountsWhatIsKept) {
  ConnectionLimits limits{.per_peer = 2, .total = 3, .reserve = 0};
  std::vector<TcpConnection> conns = {{1, "A"}, {2, "A"}, {3, "A"}, {4, "B"}, {5, "C"}, {6, "C"}};
  EXPECT_THAT(Closed(ConnectionsOverLimits(conns, limits)),
              ::testing::ElementsAre(std::pair<uint64_t, std::string>{3, "per_peer"},
                                     std::pair<uint64_t, std::string>{5, "total"},
                                     std::pair<uint64_t, std::string>{6, "total"}));
  EXPECT_TRUE(
      ConnectionsOverLimits(conns, ConnectionLimits{.per_peer = 0, .total = 0, .reserve = 0}).empty());
}

TEST(TcpConnectionLimits, ParsesEstablishedConnectionsToThePort) {
  // Listening socket, two established connections to port 0x1F90 (8080), one
  // to another port, one closing (TIME_WAIT, 06): only the two count.
  const std::string table =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0\n"
      "   1: 0100007F:1F90 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000  1000        0 1002 1 0\n"
      "   2: 0100007F:1F90 0200007F:A1B3 01 00000000:00000000 00:00000000 00000000  1000        0 1003 1 0\n"
      "   3: 0100007F:0050 0100007F:A1B4 01 00000000:00000000 00:00000000 00000000  1000        0 1004 1 0\n"
      "   4: 0100007F:1F90 0100007F:A1B5 06 00000000:00000000 00:00000000 00000000     0        0 0 3 0\n"
      "garbage line\n";
  auto conns = ParseProcNetTcp(table, 8080);
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_EQ(conns[0].inode, 1002u);
  EXPECT_EQ(conns[0].peer, "0100007F");
  EXPECT_EQ(conns[1].inode, 1003u);
  EXPECT_EQ(conns[1].peer, "0200007F");
  EXPECT_TRUE(ParseProcNetTcp("", 8080).empty());
}

}  // namespace
}  // namespace l2tp
