#include "client/table.h"

#include "gtest/gtest.h"

namespace l2tp::cli {
namespace {

TEST(TableTest, AlignsColumnsWithTwoSpaceGaps) {
  Table t({"NAME", "ID", "PHASE"});
  t.AddRow({"t1", "100", "READY"});
  t.AddRow({"long-name", "7", "PENDING"});
  EXPECT_EQ(t.Render(),
            "NAME       ID   PHASE\n"
            "t1         100  READY\n"
            "long-name  7    PENDING\n");
}

TEST(TableTest, HeaderOnlyWhenEmpty) {
  Table t({"NAME", "AGE"});
  EXPECT_EQ(t.row_count(), 0u);
  EXPECT_EQ(t.Render(), "NAME  AGE\n");
}

TEST(TableTest, NoTrailingSpacesWhenLastCellIsEmpty) {
  Table t({"NAME", "MESSAGE"});
  t.AddRow({"a", ""});
  t.AddRow({"bb", "oops"});
  EXPECT_EQ(t.Render(),
            "NAME  MESSAGE\n"
            "a\n"
            "bb    oops\n");
}

TEST(TableTest, ShortRowsArePaddedLongRowsTruncated) {
  Table t({"A", "B", "C"});
  t.AddRow({"1"});
  t.AddRow({"1", "2", "3", "4"});
  EXPECT_EQ(t.Render(),
            "A  B  C\n"
            "1\n"
            "1  2  3\n");
}

TEST(TableTest, MultiByteCharactersCountOnce) {
  EXPECT_EQ(DisplayWidth("héllo"), 5u);
  Table t({"X", "Y"});
  t.AddRow({"é", "1"});
  EXPECT_EQ(t.Render(), "X  Y\né  1\n");
}

}  // namespace
}  // namespace l2tp::cli
