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

}  // namespace
}  // namespace l2tp::cli
