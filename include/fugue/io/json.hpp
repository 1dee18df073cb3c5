// fugue/io/json.hpp — a small, strict JSON reader and writer (enough for file headers).
//
// Contract:
//  * json::parse(text) accepts exactly RFC 8259 JSON: one value, optional surrounding
//    whitespace. Objects keep their key order; a duplicate key is an error. Strings are
//    validated UTF-8 with all escapes (\uXXXX including surrogate pairs) decoded. Numbers
//    without fraction/exponent that fit int64 are integers; other numbers are doubles.
//  * Bounded: nesting depth <= max_depth (default 64), so hostile input cannot overflow
//    the stack; memory is linear in the input size.
//  * Every failure throws fugue::error "malformed JSON at byte N: <what>" (the context
//    string passed in, e.g. a file name, is prefixed).
//  * json::dump(value) writes compact JSON; strings are escaped so that
//    parse(dump(v)) == v for every Value (non-finite doubles are refused: JSON has none).
#pragma once

#include <charconv>
#include <climits>
#include <concepts>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fugue/core/error.hpp"

namespace fugue::json {

class Value {
 public:
  enum class Kind { null, boolean, integer, number, string, array, object };

  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : kind_(Kind::boolean), b_(b) {}
  template <std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, char>)
  Value(I i) : kind_(Kind::integer), i_(static_cast<std::int64_t>(i)) {
    if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t))
      FUGUE_CHECK(i <= static_cast<std::uint64_t>(INT64_MAX), "JSON integer ", i, " exceeds int64");
  }
  Value(double d) : kind_(Kind::number), d_(d) {}
  Value(const char* s) : kind_(Kind::string), s_(s) {}
  Value(std::string s) : kind_(Kind::string), s_(std::move(s)) {}
  Value(std::string_view s) : kind_(Kind::string), s_(s) {}

  static Value array() {
    Value v;
    v.kind_ = Kind::array;
    return v;
  }
  static Value object() {
    Value v;
    v.kind_ = Kind::object;
    return v;
  }

  Kind kind() const noexcept { return kind_; }
  bool is_null() const noexcept { return kind_ == Kind::null; }
  bool is_bool() const noexcept { return kind_ == Kind::boolean; }
  bool is_integer() const noexcept { return kind_ == Kind::integer; }
  bool is_number() const noexcept { return kind_ == Kind::number || kind_ == Kind::integer; }
  bool is_string() const noexcept { return kind_ == Kind::string; }
  bool is_array() const noexcept { return kind_ == Kind::array; }
  bool is_object() const noexcept { return kind_ == Kind::object; }

  bool as_bool() const {
    FUGUE_CHECK(is_bool(), "JSON value is ", kind_name(), ", not a boolean");
    return b_;
  }
  std::int64_t as_int() const {
    FUGUE_CHECK(is_integer(), "JSON value is ", kind_name(), ", not an integer");
    return i_;
  }
  double as_double() const {
    FUGUE_CHECK(is_number(), "JSON value is ", kind_name(), ", not a number");
    return kind_ == Kind::integer ? double(i_) : d_;
  }
  const std::string& as_string() const {
    FUGUE_CHECK(is_string(), "JSON value is ", kind_name(), ", not a string");
    return s_;
  }

  // Arrays: size / operator[] / push_back. Objects: size / key(i) / value(i) / find / set.
  std::size_t size() const {
    FUGUE_CHECK(is_array() || is_object(), "JSON value is ", kind_name(), ", not an array or object");
    return items_.size();
  }
  const Value& operator[](std::size_t i) const {
    FUGUE_CHECK(is_array() || is_object(), "JSON value is ", kind_name(), ", not an array");
    FUGUE_CHECK(i < items_.size(), "JSON index ", i, " out of range (size ", items_.size(), ")");
    return items_[i];
  }
  void push_back(Value v) {
    FUGUE_CHECK(is_array(), "push_back on a JSON ", kind_name());
    items_.push_back(std::move(v));
  }
  const std::string& key(std::size_t i) const {
    FUGUE_CHECK(is_object() && i < keys_.size(), "JSON object key index ", i, " out of range");
    return keys_[i];
  }
  const Value& value(std::size_t i) const { return (*this)[i]; }
  // The member named k, or nullptr.
  const Value* find(std::string_view k) const {
    FUGUE_CHECK(is_object(), "JSON value is ", kind_name(), ", not an object");
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] == k) return &items_[i];
    return nullptr;
  }
  // Adds (or replaces) a member, keeping first-insertion order.
  Value& set(std::string k, Value v) {
    FUGUE_CHECK(is_object(), "set on a JSON ", kind_name());
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] == k) return items_[i] = std::move(v);
    keys_.push_back(std::move(k));
    items_.push_back(std::move(v));
    return items_.back();
  }

  const char* kind_name() const noexcept {
    switch (kind_) {
      case Kind::null: return "null";
      case Kind::boolean: return "a boolean";
      case Kind::integer: return "an integer";
      case Kind::number: return "a number";
      case Kind::string: return "a string";
      case Kind::array: return "an array";
      case Kind::object: return "an object";
    }
    return "?";
  }

  friend bool operator==(const Value& a, const Value& b) {
    if (a.kind_ != b.kind_) return false;
    switch (a.kind_) {
      case Kind::null: return true;
      case Kind::boolean: return a.b_ == b.b_;
      case Kind::integer: return a.i_ == b.i_;
      case Kind::number: return a.d_ == b.d_;
      case Kind::string: return a.s_ == b.s_;
      case Kind::array:
      case Kind::object: return a.keys_ == b.keys_ && a.items_ == b.items_;
    }
    return false;
  }

 private:
  friend class Parser;
  Kind kind_ = Kind::null;
  bool b_ = false;
  std::int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
  std::vector<std::string> keys_;  // objects only, parallel to items_
  std::vector<Value> items_;       // array elements or object values
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view context, int max_depth)
      : s_(text), ctx_(context), max_depth_(max_depth) {}

  Value parse_document() {
    skip_ws();
    Value v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected trailing characters after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    FUGUE_FAIL(ctx_.empty() ? "" : std::string(ctx_) + ": ", "malformed JSON at byte ", pos_, ": ", what);
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  void skip_ws() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  void expect(char c) {
    if (peek() != c || at_end()) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  void literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) fail("invalid literal");
    pos_ += word.size();
  }

  Value parse_value(int depth) {
    if (at_end()) fail("unexpected end of input");
    switch (s_[pos_]) {
      case '{': return parse_object(depth + 1);
      case '[': return parse_array(depth + 1);
      case '"': return Value(parse_string());
      case 't': literal("true"); return Value(true);
      case 'f': literal("false"); return Value(false);
      case 'n': literal("null"); return Value();
      default: return parse_number();
    }
  }

  Value parse_object(int depth) {
    if (depth > max_depth_) fail("nesting deeper than " + std::to_string(max_depth_));
    expect('{');
    Value v = Value::object();
    skip_ws();
    if (peek() == '}' && !at_end()) {
      ++pos_;
      return v;
    }
    for (;;) {
      skip_ws();
      if (peek() != '"' || at_end()) fail("expected a string key");
      std::string k = parse_string();
      for (const auto& existing : v.keys_)
        if (existing == k) fail("duplicate key \"" + k + "\"");
      skip_ws();
      expect(':');
      skip_ws();
      Value item = parse_value(depth);
      v.keys_.push_back(std::move(k));
      v.items_.push_back(std::move(item));
      skip_ws();
      if (peek() == ',' && !at_end()) {
        ++pos_;
        continue;
      }
      expect('}');
      return v;
    }
  }

  Value parse_array(int depth) {
    if (depth > max_depth_) fail("nesting deeper than " + std::to_string(max_depth_));
    expect('[');
    Value v = Value::array();
    skip_ws();
    if (peek() == ']' && !at_end()) {
      ++pos_;
      return v;
    }
    for (;;) {
      skip_ws();
      v.items_.push_back(parse_value(depth));
      skip_ws();
      if (peek() == ',' && !at_end()) {
        ++pos_;
        continue;
      }
      expect(']');
      return v;
    }
  }

  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  std::uint32_t hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= std::uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= std::uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= std::uint32_t(c - 'A' + 10);
      else
        fail("invalid hex digit in \\u escape");
    }
    return v;
  }

  // One UTF-8 sequence starting at pos_ (validated: no overlongs, no surrogates, <= U+10FFFF).
  void copy_utf8(std::string& out) {
    const auto b0 = static_cast<unsigned char>(s_[pos_]);
    int len = 0;
    std::uint32_t cp = 0, min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF)
      len = 2, cp = b0 & 0x1F, min = 0x80;
    else if (b0 >= 0xE0 && b0 <= 0xEF)
      len = 3, cp = b0 & 0x0F, min = 0x800;
    else if (b0 >= 0xF0 && b0 <= 0xF4)
      len = 4, cp = b0 & 0x07, min = 0x10000;
    else
      fail("invalid UTF-8 lead byte in string");
    if (pos_ + std::size_t(len) > s_.size()) fail("truncated UTF-8 sequence in string");
    for (int i = 1; i < len; ++i) {
      const auto b = static_cast<unsigned char>(s_[pos_ + std::size_t(i)]);
      if ((b & 0xC0) != 0x80) fail("invalid UTF-8 continuation byte in string");
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail("invalid UTF-8 code point in string");
    out.append(s_.substr(pos_, std::size_t(len)));
    pos_ += std::size_t(len);
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    for (;;) {
      if (at_end()) fail("unterminated string");
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("unescaped control character in string");
      if (c >= 0x80) {
        copy_utf8(out);
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out += char(c);
        continue;
      }
      if (at_end()) fail("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") fail("lone high surrogate in \\u escape");
            pos_ += 2;
            const std::uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("invalid low surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("lone low surrogate in \\u escape");
          }
          put_utf8(out, cp);
          break;
        }
        default: fail("invalid escape character");
      }
    }
  }

  Value parse_number() {
    const std::size_t start = pos_;
    auto digit = [&] { return !at_end() && s_[pos_] >= '0' && s_[pos_] <= '9'; };
    if (peek() == '-' && !at_end()) ++pos_;
    if (!digit()) fail("invalid value");
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (digit()) ++pos_;
    }
    bool integral = true;
    if (peek() == '.' && !at_end()) {
      integral = false;
      ++pos_;
      if (!digit()) fail("digits expected after '.'");
      while (digit()) ++pos_;
    }
    if ((peek() == 'e' || peek() == 'E') && !at_end()) {
      integral = false;
      ++pos_;
      if ((peek() == '+' || peek() == '-') && !at_end()) ++pos_;
      if (!digit()) fail("digits expected in exponent");
      while (digit()) ++pos_;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    if (integral) {
      std::int64_t i = 0;
      auto r = std::from_chars(first, last, i);
      if (r.ec == std::errc() && r.ptr == last) return Value(i);
      // Out of int64 range: fall through to a double.
    }
    double d = 0;
    auto r = std::from_chars(first, last, d);
    if (r.ec == std::errc::result_out_of_range || !std::isfinite(d)) fail("number out of double range");
    if (r.ptr != last || r.ec != std::errc()) fail("invalid number");
    return Value(d);
  }

  std::string_view s_;
  std::string_view ctx_;
  int max_depth_;
  std::size_t pos_ = 0;
};

// Parses a whole JSON document. `context` (a file name, "safetensors header") prefixes errors.
inline Value parse(std::string_view text, std::string_view context = {}, int max_depth = 64) {
  return Parser(text, context, max_depth).parse_document();
}

inline void dump_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

inline void dump_to(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::null: out += "null"; return;
    case Value::Kind::boolean: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::integer: out += std::to_string(v.as_int()); return;
    case Value::Kind::number: {
      const double d = v.as_double();
      FUGUE_CHECK(std::isfinite(d), "JSON cannot represent the non-finite number ", d);
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
      std::string_view s(buf, std::size_t(r.ptr - buf));
      out += s;
      // Keep it a JSON number that reads back as a double, not an integer.
      if (s.find_first_of(".eE") == std::string_view::npos) out += ".0";
      return;
    }
    case Value::Kind::string: dump_string(out, v.as_string()); return;
    case Value::Kind::array:
      out += '[';
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        dump_to(out, v[i]);
      }
      out += ']';
      return;
    case Value::Kind::object:
      out += '{';
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        dump_string(out, v.key(i));
        out += ':';
        dump_to(out, v.value(i));
      }
      out += '}';
      return;
  }
}

// Compact JSON text of v.
inline std::string dump(const Value& v) {
  std::string out;
  dump_to(out, v);
  return out;
}

}  // namespace fugue::json
