#include "tessera/base/table.h"

#include "gtest/gtest.h"

namespace tessera {
namespace {

TEST(TextTableTest, AlignsColumns) {
  TextTable table({"profile", "SMs", "x"});
  table.SetRightAligned(1);
  table.AddRow({"1g.10gb", "16", ""});
  table.AddRow({"7g.80gb", "132", "yes"});
  EXPECT_EQ(table.Render(),
            "profile  SMs  x\n"
            "-------  ---  ---\n"
            "1g.10gb   16\n"
            "7g.80gb  132  yes\n");
}

}  // namespace
}  // namespace tessera
