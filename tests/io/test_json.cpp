#include <catch2/catch.hpp>

#include "fugue/io/json.hpp"

using fugue::json::Value;
namespace json = fugue::json;

TEST_CASE("json: parses objects, arrays, strings with escapes, integers", "[io][json]") {
  const auto v = json::parse(
      R"( {"a": [1, -2, 3.5e1, true, false, null], "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83c\udfb5", "big": 9223372036854775807} )");
  REQUIRE(v.is_object());
  REQUIRE(v.size() == 3);
  CHECK(v.key(0) == "a");
  const Value& a = *v.find("a");
  CHECK(a[0].as_int() == 1);
  CHECK(a[1].as_int() == -2);
  CHECK(a[2].as_double() == 35.0);
  CHECK_FALSE(a[2].is_integer());
  CHECK(a[3].as_bool());
  CHECK(a[5].is_null());
  CHECK(v.find("s")->as_string() == "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x8e\xb5");
  CHECK(v.find("big")->as_int() == INT64_MAX);
  CHECK(v.find("nope") == nullptr);
}

TEST_CASE("json: dump then parse is the identity", "[io][json]") {
  Value o = Value::object();
  o.set("name", Value("tab\there \"quoted\" \x01 \xc3\xa9"));
  Value arr = Value::array();
  arr.push_back(Value(0));
  arr.push_back(Value(-123456789012345LL));
  arr.push_back(Value(0.1));
  arr.push_back(Value(2.0));
  arr.push_back(Value(nullptr));
  o.set("arr", arr);
  o.set("empty", Value::object());
  const std::string text = json::dump(o);
  CHECK(json::parse(text) == o);
  CHECK(text.find('\x01') == std::string::npos);  // control characters escaped
  CHECK(json::parse(json::dump(Value(2.0))).is_number());
  CHECK_FALSE(json::parse(json::dump(Value(2.0))).is_integer());
}

TEST_CASE("json: malformed input throws fugue::error with the byte position", "[io][json]") {
  const char* bad[] = {"",
                       "{",
                       "{\"a\":}",
                       "{\"a\" 1}",
                       "[1,]",
                       "[1 2]",
                       "{\"a\":1,}",
                       "\"abc",
                       "\"\\x\"",
                       "\"\\u12\"",
                       "\"\\ud800\"",
                       "\"\\udc00\"",
                       "01",
                       "1.",
                       "-",
                       "1e",
                       "tru",
                       "nul",
                       "{\"a\":1}x",
                       "{\"a\":1,\"a\":2}",
                       "\"\x01\"",
                       "\"\xff\"",
                       "\"\xc0\xaf\"",
                       "\"\xed\xa0\x80\"",
                       "1e400",
                       "{1:2}"};
  for (const char* s : bad) {
    INFO("input: " << s);
    CHECK_THROWS_AS(json::parse(s), fugue::error);
  }
  try {
    json::parse("[1, 2, x]", "hdr");
    FAIL("no throw");
  } catch (const fugue::error& e) {
    CHECK_THAT(e.what(), Catch::Contains("hdr: malformed JSON at byte 7"));
  }
}

TEST_CASE("json: nesting depth is bounded", "[io][json]") {
  std::string deep(100000, '[');
  CHECK_THROWS_WITH(json::parse(deep), Catch::Contains("nesting deeper than 64"));
  std::string ok = std::string(60, '[') + std::string(60, ']');
  CHECK_NOTHROW(json::parse(ok));
}

TEST_CASE("json: integers beyond int64 become doubles", "[io][json]") {
  const auto v = json::parse("18446744073709551616");
  CHECK_FALSE(v.is_integer());
  CHECK(v.as_double() == 18446744073709551616.0);
  CHECK_THROWS_AS(v.as_int(), fugue::error);
}
