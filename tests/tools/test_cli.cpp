// The fugue tool as a user meets it: --help on the tool and its subcommands, `fugue inspect`
// on a model file, and one-line errors with a non-zero exit for what it cannot read.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <cstdio>
#include <filesystem>
#include <string>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/io/model_file.hpp"
#include "fugue/version.hpp"
#include "../scratch_dir.hpp"

namespace fs = std::filesystem;

namespace {

struct Result {
  int status = -1;
  std::string out;  // stdout and stderr together
};

Result run(const std::string& args) {
  const std::string cmd = std::string(FUGUE_CLI) + " " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

struct Scratch : fugue_test::ScratchDir {
  Scratch() : ScratchDir("cli") {}
};

struct Toy {
  fugue::ad::Parameter<float> weight;
  Toy() { weight.value = fugue::Tensor<float>::from(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}); }
  template <class F>
  void visit_parameters(F&& f, std::string_view = {}) {
    f("dense.weight", weight);
  }
};

}  // namespace

TEST_CASE("fugue cli: --help and --version on the tool and each subcommand", "[cli]") {
  const Result help = run("--help");
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("inspect") && Catch::Contains("Subcommands"));
  const Result sub = run("inspect --help");
  CHECK(sub.status == 0);
  CHECK_THAT(sub.out, Catch::Contains("--tensors") && Catch::Contains("--json"));
  const Result v = run("--version");
  CHECK(v.status == 0);
  CHECK_THAT(v.out, Catch::Contains(std::string(fugue::version())));
  const Result none = run("");
  CHECK(none.status != 0);  // a subcommand is required
}

TEST_CASE("fugue cli: inspect shows a model file's card and tensors", "[cli]") {
  Scratch s;
  const fs::path p = s.dir / "toy.safetensors";
  Toy m;
  fugue::io::ModelCard card;
  card.family = "toy";
  card.config = "toy_small";
  card.features.set("sample_rate", 16000);
  fugue::io::save_model(m, card, p);
  const Result r = run("inspect --tensors " + p.string());
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("family      toy") && Catch::Contains("config      toy_small") &&
                        Catch::Contains("parameters  6 in 1 tensors (F32)") &&
                        Catch::Contains("{\"sample_rate\":16000}") && Catch::Contains("dense.weight") &&
                        Catch::Contains("[2, 3]"));
  const Result j = run("inspect --json " + p.string());
  CHECK(j.status == 0);
  const auto v = fugue::json::parse(j.out);
  CHECK(v.find("config")->as_string() == "toy_small");
  CHECK(v.find("parameters")->as_int() == 6);
}

TEST_CASE("fugue cli: what inspect cannot read is one line of error and exit 1", "[cli]") {
  Scratch s;
  Toy m;
  const fs::path plain = s.dir / "plain.safetensors";
  fugue::io::save_parameters(m, plain, {{"trainer.step", "120"}});
  const Result ck = run("inspect " + plain.string());
  CHECK(ck.status == 1);
  CHECK_THAT(ck.out, Catch::StartsWith("fugue: error: ") && Catch::Contains("a training checkpoint (step 120)"));
  CHECK(ck.out.find('\n') == ck.out.size() - 1);  // one line

  const fs::path junk = s.dir / "junk.safetensors";
  {
    std::FILE* f = std::fopen(junk.c_str(), "wb");
    std::fputs("not a safetensors file at all", f);
    std::fclose(f);
  }
  const Result j = run("inspect " + junk.string());
  CHECK(j.status == 1);
  CHECK_THAT(j.out, Catch::StartsWith("fugue: error: ") && Catch::Contains(junk.string()));

  const Result missing = run("inspect " + (s.dir / "absent.safetensors").string());
  CHECK(missing.status != 0);
  CHECK_THAT(missing.out, Catch::Contains("absent.safetensors"));
}
