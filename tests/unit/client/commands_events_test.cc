#include "client/commands.h"

#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace l2tp::cli {
namespace {

using ::testing::HasSubstr;
namespace v1 = ::l2tpagent::v1;

TEST(EventsTest, TableShowsAgeReasonResourceAndMessage) {
  v1::ListEventsResponse events;
  auto* e = events.add_events();
  e->set_kind(v1::RESOURCE_KIND_SESSION);
  e->set_name("s1");
  e->set_reason(v1::Event::REASON_FAILED);
  e->set_message("create session failed: interface exists");
  *e->mutable_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(1000);
  std::string out = RenderEvents(events, absl::FromUnixSeconds(1045));
  EXPECT_THAT(out, HasSubstr("AGE  REASON  RESOURCE    MESSAGE"));
  EXPECT_THAT(out, HasSubstr("45s  FAILED  session/s1  create session failed: interface exists"));
}

TEST(EventsTest, ControlEventsReadControl) {
  v1::ListEventsResponse events;
  auto* e = events.add_events();
  e->set_kind(v1::RESOURCE_KIND_TUNNEL);
  e->set_name("lac");
  e->set_reason(v1::Event::REASON_CONTROL);
  e->set_message("control connection ESTABLISHED with lns1 (peer tunnel 4711)");
  *e->mutable_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(1040);
  auto* unknown = events.add_events();  // from a newer agent
  unknown->set_kind(v1::RESOURCE_KIND_SESSION);
  unknown->set_name("pw1");
  unknown->set_reason(static_cast<v1::Event::Reason>(42));
  *unknown->mutable_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(1000);
  EXPECT_EQ(RenderEvents(events, absl::FromUnixSeconds(1045)),
            "AGE  REASON   RESOURCE     MESSAGE\n"
            "5s   CONTROL  tunnel/lac   control connection ESTABLISHED with lns1 (peer tunnel 4711)\n"
            "45s  42       session/pw1\n");
}

}  // namespace
}  // namespace l2tp::cli
