// fugue — the command-line tool. Each subcommand lives in its own header and registers itself
// here: `fugue inspect MODEL` today; each model family adds `fugue <family> ...` the same way.
// Errors are one line on stderr ("fugue: error: ...") and a non-zero exit; --help works on the
// tool and on every subcommand.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "fugue/core/error.hpp"
#include "fugue/version.hpp"
#include "inspect.hpp"

namespace {
// One line on stderr and exit status 1.
int fail(std::string message) {
  for (char& ch : message)
    if (ch == '\n') ch = ' ';
  std::fprintf(stderr, "fugue: error: %s\n", message.c_str());
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fugue " + std::string(fugue::version()) +
                   ": sequence and audio models (Magenta's MusicVAE, DDSP, ...) as C++ templates",
               "fugue"};
  app.set_version_flag("--version", std::string(fugue::version()));
  app.require_subcommand(1);
  fugue::cli::add_inspect(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const fugue::error& e) {
    return fail(e.message());  // what and where, without the library's source location
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return 0;
}
