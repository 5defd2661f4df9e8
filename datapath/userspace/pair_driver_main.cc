// l2tp-userspace-driver: runs a UserspaceDatapath with one tunnel and one
// session in the current network namespace until SIGTERM/SIGINT. Keeps the
// userspace datapath testable without the agent (integration tests).
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "common/log.h"
#include "datapath/userspace/pair_driver_options.h"
#include "datapath/userspace/userspace_datapath.h"

namespace {

void PrintCounters(l2tp::Datapath& dp) {
  auto obs = dp.Observe();
  if (!obs.ok()) {
    std::cerr << "observe: " << obs.status() << "\n";
    return;
  }
  auto print = [](const char* what, const l2tp::Counters& c) {
    std::cout << what << " tx_packets=" << c.tx_packets << " tx_bytes=" << c.tx_bytes
              << " tx_errors=" << c.tx_errors << " rx_packets=" << c.rx_packets << " rx_bytes=" << c.rx_bytes
              << " rx_errors=" << c.rx_errors << " rx_seq_discards=" << c.rx_seq_discards
              << " rx_oos_packets=" << c.rx_oos_packets << " rx_cookie_discards=" << c.rx_cookie_discards
              << " rx_invalid=" << c.rx_invalid << "\n";
  };
  for (const auto& t : obs->tunnels) print("tunnel", t.counters);
  for (const auto& s : obs->sessions) print("session", s.counters);
  std::cout << "sessions=" << obs->sessions.size() << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  auto opts = l2tp::userspace::ParseDriverOptions(argc, argv);
  if (!opts.ok()) {
    std::cerr << opts.status().message() << "\n" << l2tp::userspace::DriverUsage();
    return 2;
  }
  l2tp::LogLevel level;
  if (l2tp::ParseLogLevel(opts->log_level, &level)) l2tp::SetLogLevel(level);

  // Block the signals before any thread starts so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto dp = l2tp::userspace::UserspaceDatapath::Create(opts->io_threads, opts->io_mode);
  if (!dp.ok()) {
    std::cerr << "datapath: " << dp.status() << "\n";
    return 1;
  }
  if (auto st = (*dp)->CreateTunnel(opts->tunnel); !st.ok()) {
    std::cerr << "create tunnel: " << st << "\n";
    return 1;
  }
  if (auto st = (*dp)->CreateSession(opts->session); !st.ok()) {
    std::cerr << "create session: " << st << "\n";
    return 1;
  }
  std::cout << "ready (" << (*dp)->io() << ")" << std::endl;

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGUSR1) {
      PrintCounters(**dp);
      continue;
    }
    break;
  }
  PrintCounters(**dp);
  // Leave nothing behind: the test owns the namespaces, not persistent TAPs.
  (void)(*dp)->DeleteTunnel(opts->tunnel.tunnel_id);
  return 0;
}
