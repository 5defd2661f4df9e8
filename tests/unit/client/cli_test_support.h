// Test support for l2tpctl: a fake agent serving canned answers on a unix
// socket, and a helper that runs the CLI in-process and captures its output.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "l2tpagent/v1/l2tpagent.grpc.pb.h"

namespace l2tp::cli {}  // namespace l2tp::cli

namespace l2tp::cli::testing {

// Answers each RPC with the response and status set by the test and records
// the last request.
class FakeAgentService final : public l2tpagent::v1::L2tpAgent::Service {
 public:
  std::mutex mu;
  grpc::Status status = grpc::Status::OK;  // returned by every RPC
  l2tpagent::v1::ApplyResponse apply_response;
  l2tpagent::v1::DeleteResponse delete_response;
  l2tpagent::v1::GetResponse get_response;
  l2tpagent::v1::ListResponse list_response;
  l2tpagent::v1::GetInfoResponse info_response;
  std::vector<l2tpagent::v1::WatchEvent> watch_events;
  bool watch_holds_open = false;  // after the events, wait for the client to go

  l2tpagent::v1::ApplyRequest last_apply;
  l2tpagent::v1::DeleteRequest last_delete;
  l2tpagent::v1::GetRequest last_get;
  l2tpagent::v1::ListRequest last_list;
  int calls = 0;

  grpc::Status Apply(grpc::ServerContext*, const l2tpagent::v1::ApplyRequest* request,
                     l2tpagent::v1::ApplyResponse* response) override {
    std::lock_guard lock(mu);
    ++calls;
    last_apply = *request;
    *response = apply_response;
    return status;
  }
  grpc::Status Delete(grpc::ServerContext*, const l2tpagent::v1::DeleteRequest* request,
                      l2tpagent::v1::DeleteResponse* response) override {
    std::lock_guard lock(mu);
    ++calls;
    last_delete = *request;
    *response = delete_response;
    return status;
  }
  grpc::Status Get(grpc::ServerContext*, const l2tpagent::v1::GetRequest* request,
                   l2tpagent::v1::GetResponse* response) override {
    std::lock_guard lock(mu);
    ++calls;
    last_get = *request;
    *response = get_response;
    return status;
  }
  grpc::Status List(grpc::ServerContext*, const l2tpagent::v1::ListRequest* request,
                    l2tpagent::v1::ListResponse* response) override {
    std::lock_guard lock(mu);
    ++calls;
    last_list = *request;
    *response = list_response;
    return status;
  }
  grpc::Status GetInfo(grpc::ServerContext*, const l2tpagent::v1::GetInfoRequest*,
                       l2tpagent::v1::GetInfoResponse* response) override {
    std::lock_guard lock(mu);
    ++calls;
    *response = info_response;
    return status;
  }
  grpc::Status Watch(grpc::ServerContext* context, const l2tpagent::v1::WatchRequest*,
                     grpc::ServerWriter<l2tpagent::v1::WatchEvent>* writer) override {
    std::vector<l2tpagent::v1::WatchEvent> events;
    bool hold;
    {
      std::lock_guard lock(mu);
      ++calls;
      events = watch_events;
      hold = watch_holds_open;
    }
    for (const auto& e : events) writer->Write(e);
    while (hold && !context->IsCancelled()) usleep(10 * 1000);
    return status;
  }
};

// The fake agent listening on <fresh temp dir>/agent.sock.
class FakeAgent {
 public:
  FakeAgent() {
    char dir[] = "/tmp/l2tpctl-test-XXXXXX";
    EXPECT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    socket_path_ = dir_ + "/agent.sock";
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket_path_, grpc::InsecureServerCredentials());
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
  }
  ~FakeAgent() {
    if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    std::filesystem::remove_all(dir_);
  }

  FakeAgentService& service() { return service_; }
  const std::string& socket_path() const { return socket_path_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string socket_path_;
  FakeAgentService service_;
  std::unique_ptr<grpc::Server> server_;
};

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// A fixed "now" so ages are exact: 2026-01-01T00:00:00Z.
inline absl::Time TestNow() { return absl::FromUnixSeconds(1767225600); }

inline CliResult RunCliForTest(const std::vector<std::string>& args, const std::string& stdin_text = "",
                               const char* env_socket = nullptr) {
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  CliEnvironment env{.in = &in, .out = &out, .err = &err, .env_socket = env_socket, .now = TestNow()};
  CliResult result;
  result.code = RunCli(args, env);
  result.out = out.str();
  result.err = err.str();
  return result;
}

// Runs `args` against `agent`: `--socket <its socket>` goes first.
inline CliResult RunAgainst(const FakeAgent& agent, std::vector<std::string> args,
                            const std::string& stdin_text = "") {
  args.insert(args.begin(), {"--socket", agent.socket_path()});
  return RunCliForTest(args, stdin_text);
}

// A timestamp `ago` before TestNow().
inline google::protobuf::Timestamp Ago(absl::Duration ago) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(TestNow() - ago));
  return ts;
}

// A UDP tunnel t1 (100 -> 200, 10.0.0.1 -> 10.0.0.2), READY for 5s.
inline l2tpagent::v1::Tunnel SampleTunnel() {
  l2tpagent::v1::Tunnel t;
  t.set_name("t1");
  t.set_generation(2);
  t.set_resource_version("7");
  auto* spec = t.mutable_spec();
  spec->set_tunnel_id(100);
  spec->set_peer_tunnel_id(200);
  spec->set_encap(l2tpagent::v1::ENCAPSULATION_UDP);
  spec->set_local("10.0.0.1");
  spec->set_remote("10.0.0.2");
  spec->set_udp_destination_port(1702);
  auto* status = t.mutable_status();
  status->set_phase(l2tpagent::v1::PHASE_READY);
  *status->mutable_last_transition_time() = Ago(absl::Seconds(5));
  status->set_observed_generation(2);
  status->set_datapath("memory");
  return t;
}

// Session s1 of t1 (1 -> 2, l2tpeth0), FAILED for 3 minutes.
inline l2tpagent::v1::Session SampleSession() {
  l2tpagent::v1::Session s;
  s.set_name("s1");
  s.set_generation(1);
  s.set_resource_version("8");
  auto* spec = s.mutable_spec();
  spec->set_tunnel("t1");
  spec->set_session_id(1);
  spec->set_peer_session_id(2);
  spec->set_interface_name("l2tpeth0");
  spec->set_cookie("a1b2c3d4");
  spec->set_send_sequence(true);
  spec->set_mtu(1400);
  auto* status = s.mutable_status();
  status->set_phase(l2tpagent::v1::PHASE_FAILED);
  status->set_message("interface l2tpeth0 exists");
  *status->mutable_last_transition_time() = Ago(absl::Minutes(3) + absl::Seconds(20));
  auto* c = status->mutable_counters();
  c->set_rx_packets(10);
  c->set_rx_bytes(1000);
  c->set_tx_packets(20);
  c->set_tx_bytes(2000);
  c->set_rx_errors(1);
  c->set_tx_errors(2);
  c->set_rx_seq_discards(3);
  c->set_rx_oos_packets(4);
  c->set_rx_cookie_discards(5);
  c->set_rx_invalid(6);
  return s;
}

// A DYNAMIC tunnel "lac" (initiator, ids left to the agent, 10.0.0.1 ->
// 10.0.0.3): READY for 5s, its control connection ESTABLISHED with lns1
// (our id 17, theirs 4711), HELLO round trip 1.234567ms, 3 retransmissions.
inline l2tpagent::v1::Tunnel SampleDynamicTunnel() {
  l2tpagent::v1::Tunnel t = SampleTunnel();
  t.set_name("lac");
  auto* spec = t.mutable_spec();
  spec->set_tunnel_id(0);
  spec->set_peer_tunnel_id(0);
  spec->set_remote("10.0.0.3");
  spec->clear_udp_destination_port();
  spec->mutable_control()->set_mode(l2tpagent::v1::TunnelControl::MODE_DYNAMIC);
  spec->mutable_control()->set_role(l2tpagent::v1::TunnelControl::ROLE_INITIATOR);
  auto* control = t.mutable_status()->mutable_tunnel_control();
  control->set_state(l2tpagent::v1::CONTROL_STATE_ESTABLISHED);
  control->set_tunnel_id(17);
  control->set_peer_tunnel_id(4711);
  control->set_peer_host_name("lns1");
  control->set_peer_vendor("xl2tpd");
  control->mutable_hello_round_trip()->set_nanos(1234567);
  control->set_retransmissions(3);
  control->set_message("SCCCN acknowledged");
  return t;
}

// Session "pw1" of lac (Remote End ID "pw-1", ids left to the agent):
// READY for 5s, ESTABLISHED as our 9 and the peer's 77, sending the cookie
// the peer asked for.
inline l2tpagent::v1::Session SampleDynamicSession() {
  l2tpagent::v1::Session s;
  s.set_name("pw1");
  s.set_generation(1);
  s.set_resource_version("9");
  auto* spec = s.mutable_spec();
  spec->set_tunnel("lac");
  spec->set_remote_end_id("pw-1");
  spec->set_peer_cookie("cafe0001");
  auto* status = s.mutable_status();
  status->set_phase(l2tpagent::v1::PHASE_READY);
  *status->mutable_last_transition_time() = Ago(absl::Seconds(5));
  auto* control = status->mutable_session_control();
  control->set_state(l2tpagent::v1::CONTROL_STATE_ESTABLISHED);
  control->set_session_id(9);
  control->set_peer_session_id(77);
  control->set_peer_cookie("beef0002");
  return s;
}

}  // namespace l2tp::cli::testing
