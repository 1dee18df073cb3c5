// fugue/core/error.hpp — the one exception type fugue throws.
//
// Contract: every failure the library detects at run time (bad shapes, dtype or
// backend mismatches, malformed files, NaNs, out-of-range arguments) is reported
// by throwing fugue::error. Its what() says what went wrong and where: the source
// location of the check plus, optionally, a context such as a file name or a
// parameter name ("encoder.lstm.0.fw.kernel").
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace fugue {

// Where a check fired. std::source_location would do, but clang 14 with
// libstdc++ 12 (Debian bookworm, used for the libFuzzer builds) lacks it; the
// builtins below work on both compilers.
struct source_location {
  const char* file = "";
  unsigned line = 0;
  const char* function = "";
  static constexpr source_location current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE(),
                                           const char* function = __builtin_FUNCTION()) noexcept {
    return {file, line, function};
  }
  const char* file_name() const noexcept { return file; }
  const char* function_name() const noexcept { return function; }
};

class error : public std::runtime_error {
 public:
  explicit error(const std::string& what, fugue::source_location where = fugue::source_location::current())
      : std::runtime_error(compose(what, where)), message_(what), where_(where) {}

  // The bare message, without the location suffix.
  const std::string& message() const noexcept { return message_; }
  const fugue::source_location& where() const noexcept { return where_; }

 private:
  static std::string compose(const std::string& what, const fugue::source_location& where) {
    std::string file = where.file_name();
    // Keep paths short and stable: report from "fugue/..." on when possible.
    if (auto pos = file.rfind("fugue/"); pos != std::string::npos) file = file.substr(pos);
    std::ostringstream os;
    os << "fugue: " << what << " [at " << file << ':' << where.line << " in " << where.function_name() << ']';
    return os.str();
  }

  std::string message_;
  fugue::source_location where_;
};

namespace detail {
template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream os;
  (os << ... << std::forward<Parts>(parts));
  return os.str();
}
}  // namespace detail

// Throws fugue::error with the concatenation of `parts` when `ok` is false.
// The message is only formatted on failure, so checks are cheap on hot paths.
#define FUGUE_CHECK(ok, ...)                                                                           \
  do {                                                                                                 \
    if (!(ok)) [[unlikely]]                                                                            \
      throw ::fugue::error(::fugue::detail::concat(__VA_ARGS__), ::fugue::source_location::current()); \
  } while (0)

// Unconditional failure with a formatted message.
#define FUGUE_FAIL(...) throw ::fugue::error(::fugue::detail::concat(__VA_ARGS__), ::fugue::source_location::current())

}  // namespace fugue
