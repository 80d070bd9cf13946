#include "tessera/base/yaml.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera {
namespace {

using ::tessera::testing::IsOkAndHolds;
using ::tessera::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kDoc[] = R"(name: h100
sms: 132
bad: twelve
pci: [0x2330, 0x2331]
nothing: null
list:
  - a: 1
  - a: x
)";

TEST(YamlTest, ReadsValuesWithTypes) {
  ASSERT_OK_AND_ASSIGN(YamlView root, YamlView::LoadString(kDoc, "g.yaml"));
  EXPECT_THAT(root.Get("name").String(), IsOkAndHolds(std::string("h100")));
  EXPECT_THAT(root.Get("sms").Int(), IsOkAndHolds(132));
  EXPECT_THAT(root.Get("pci").IntList(), IsOkAndHolds(ElementsAre(0x2330, 0x2331)));
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> nothing, root.Get("nothing").NullableInt());
  EXPECT_FALSE(nothing.has_value());
  EXPECT_TRUE(root.Has("sms"));
  EXPECT_FALSE(root.Has("absent"));
}

TEST(YamlTest, ErrorsNameFileLineColumnAndField) {
  ASSERT_OK_AND_ASSIGN(YamlView root, YamlView::LoadString(kDoc, "g.yaml"));
  EXPECT_THAT(root.Get("bad").Int(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("g.yaml:3:6: field bad: expected an integer, found 'twelve'")));
  ASSERT_OK_AND_ASSIGN(std::vector<YamlView> items, root.Get("list").Items());
  ASSERT_EQ(items.size(), 2u);
  EXPECT_THAT(items[1].Get("a").Int(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("g.yaml:8:8: field list[1].a: expected an integer")));
  EXPECT_THAT(items[0].Get("b").Int(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field list[0].b: missing required field")));
  EXPECT_THAT(root.Get("name").Items(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected a list")));
}

TEST(YamlTest, CheckKeysRejectsUnknownKeys) {
  ASSERT_OK_AND_ASSIGN(YamlView root, YamlView::LoadString(kDoc, "g.yaml"));
  EXPECT_THAT(root.CheckKeys({"name", "sms", "bad", "pci", "nothing"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("g.yaml:6:1: field list: unknown key 'list'")));
  EXPECT_OK(root.CheckKeys({"name", "sms", "bad", "pci", "nothing", "list"}));
}

TEST(YamlTest, SyntaxErrorNamesLine) {
  EXPECT_THAT(YamlView::LoadString("a: [1, 2\nb: 3\n", "s.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("s.yaml:")));
}

}  // namespace
}  // namespace tessera
