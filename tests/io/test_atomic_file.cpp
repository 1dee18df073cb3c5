#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "fugue/io/atomic_file.hpp"

namespace fs = std::filesystem;
using namespace fugue::io;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() / ("fugue_test_atomic_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}
int count_files(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}
}  // namespace

TEST_CASE("atomic_file: commit replaces the target, temporaries are hidden siblings", "[io][atomic]") {
  TempDir d;
  const fs::path p = d.path / "ckpt.bin";
  write_file_atomic(p, std::string_view("first"));
  CHECK(slurp(p) == "first");
  AtomicFile f(p);
  CHECK(f.temporary().parent_path() == p.parent_path());
  CHECK(f.temporary().filename().string().rfind(".ckpt.bin.tmp-", 0) == 0);
  f.write(std::string_view("sec"));
  f.write(std::string_view("ond"));
  CHECK(slurp(p) == "first");  // not visible before commit
  f.commit();
  CHECK(f.committed());
  CHECK(f.bytes_written() == 6);
  CHECK(slurp(p) == "second");
  CHECK(count_files(d.path) == 1);
  CHECK_THROWS_WITH(f.write(std::string_view("x")), Catch::Contains("already committed"));
}

TEST_CASE("atomic_file: a producer that throws leaves the previous file intact", "[io][atomic]") {
  TempDir d;
  const fs::path p = d.path / "model.safetensors";
  write_file_atomic(p, std::string_view("good checkpoint"));
  CHECK_THROWS_WITH(write_file_atomic(p,
                                      [](AtomicFile& f) {
                                        f.write(std::string_view("half a new chec"));
                                        throw fugue::error("simulated crash while producing the data");
                                      }),
                    Catch::Contains("simulated crash"));
  CHECK(slurp(p) == "good checkpoint");
  CHECK(count_files(d.path) == 1);  // the temporary was removed
}

TEST_CASE("atomic_file: failing system calls are errors naming the path", "[io][atomic]") {
  TempDir d;
  // Directory does not exist: cannot create the temporary.
  CHECK_THROWS_WITH(write_file_atomic(d.path / "nope" / "x.bin", std::string_view("x")),
                    Catch::Contains("cannot create temporary file") && Catch::Contains("x.bin"));
  // Rename over a non-empty directory fails; the temporary is cleaned up.
  fs::create_directories(d.path / "dir" / "child");
  CHECK_THROWS_WITH(write_file_atomic(d.path / "dir", std::string_view("x")),
                    Catch::Contains("rename over the target"));
  CHECK(count_files(d.path) == 0);
  // Writing after abort() is refused.
  AtomicFile f(d.path / "y.bin");
  f.abort();
  CHECK_THROWS_WITH(f.write(std::string_view("x")), Catch::Contains("already aborted"));
  CHECK(count_files(d.path) == 0);
}

TEST_CASE("atomic_file: a process killed mid-write leaves the previous file intact", "[io][atomic]") {
  TempDir d;
  const fs::path p = d.path / "ckpt.bin";
  const std::string old_content(100000, 'o');
  write_file_atomic(p, std::string_view(old_content));
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: write half of a new checkpoint, then die without any cleanup.
    AtomicFile f(p);
    const std::string half(50000, 'n');
    f.write(std::string_view(half));
    ::kill(::getpid(), SIGKILL);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK(slurp(p) == old_content);
  // The crash left a stale temporary; it is recognisable and removable.
  CHECK(count_files(d.path) == 2);
  CHECK(remove_stale_temporaries(p) == 1);
  CHECK(count_files(d.path) == 1);
  CHECK(slurp(p) == old_content);
}

TEST_CASE("atomic_file: a write that fails (file size limit, like a full disk) keeps the old file", "[io][atomic]") {
  TempDir d;
  const fs::path p = d.path / "ckpt.bin";
  write_file_atomic(p, std::string_view("old"));
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: writes beyond 4 KiB fail with EFBIG (SIGXFSZ ignored), as on a full disk.
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    int code = 1;
    try {
      write_file_atomic(p, std::string_view(std::string(100000, 'n')));
    } catch (const fugue::error& e) {
      code = std::string(e.what()).find("failed after") != std::string::npos ? 0 : 2;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(slurp(p) == "old");
  CHECK(count_files(d.path) == 1);  // the failed temporary was removed
}
