// fugue/io/atomic_file.hpp — all-or-nothing file replacement for checkpoints.
//
// Contract:
//  * AtomicFile f(path) creates a new temporary file next to `path` (same directory, so
//    the final rename cannot cross file systems), named ".<name>.tmp-<pid>-<n>-<rand>".
//    write() appends bytes (short writes and EINTR are retried). commit() flushes the data
//    to the device (fsync), closes, renames the temporary over `path` (an atomic
//    replacement on POSIX file systems), then fsyncs the directory so the rename itself
//    survives a power cut.
//  * If commit() is never reached — an exception while producing the data, a failed write
//    (disk full), a failed fsync or rename — the temporary is removed by abort() / the
//    destructor and `path` still holds exactly its previous content (or still does not
//    exist). A crash of the whole process (SIGKILL, power loss) can leave a stale
//    ".<name>.tmp-*" file behind, never a torn `path`; remove_stale_temporaries(path)
//    deletes such leftovers.
//  * Readers that opened `path` before the rename keep reading the old file (its inode
//    stays alive until they close it).
//  * Every failure throws fugue::error naming the path and the failing system call with
//    strerror(errno).
//  * write_file_atomic(path, bytes) and write_file_atomic(path, producer) are the one-call
//    forms; the producer gets the AtomicFile and may write in pieces.
// POSIX only (open/fsync/rename); fugue targets Linux.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "fugue/core/error.hpp"

namespace fugue::io {

namespace detail {
inline std::string errno_text(int e) { return std::string(std::strerror(e)); }

inline std::filesystem::path parent_or_dot(const std::filesystem::path& p) {
  auto d = p.parent_path();
  return d.empty() ? std::filesystem::path(".") : d;
}

// fsync of a directory, so that a rename inside it is durable.
inline void fsync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  FUGUE_CHECK(fd >= 0, "cannot open directory '", dir.string(), "' to fsync it: ", errno_text(errno));
  int rc;
  do rc = ::fsync(fd);
  while (rc != 0 && errno == EINTR);
  const int e = errno;
  ::close(fd);
  // Some file systems (e.g. certain network mounts) refuse fsync on directories.
  FUGUE_CHECK(rc == 0 || e == EINVAL || e == EROFS, "fsync of directory '", dir.string(), "' failed: ", errno_text(e));
}
}  // namespace detail

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
    FUGUE_CHECK(!target_.empty(), "atomic write: empty path");
    FUGUE_CHECK(target_.has_filename(), "atomic write: '", target_.string(), "' names no file");
    const auto dir = detail::parent_or_dot(target_);
    static std::atomic<std::uint64_t> counter{0};
    for (int attempt = 0;; ++attempt) {
      const auto salt = std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
      temp_ = dir / ("." + target_.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter.fetch_add(1)) + "-" + std::to_string(salt % 1000000007u));
      fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) break;
      const int e = errno;
      FUGUE_CHECK(e == EEXIST && attempt < 100, "cannot create temporary file '", temp_.string(), "' for '",
                  target_.string(), "': ", detail::errno_text(e));
    }
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() { abort(); }

  const std::filesystem::path& target() const noexcept { return target_; }
  const std::filesystem::path& temporary() const noexcept { return temp_; }
  std::uint64_t bytes_written() const noexcept { return written_; }
  bool committed() const noexcept { return committed_; }

  void write(const void* data, std::size_t n) {
    FUGUE_CHECK(fd_ >= 0, "atomic write to '", target_.string(), "': file already ",
                committed_ ? "committed" : "aborted");
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ::ssize_t k = ::write(fd_, p, n);
      if (k < 0) {
        if (errno == EINTR) continue;
        const int e = errno;
        abort();
        FUGUE_FAIL("writing '", target_.string(), "' (temporary '", temp_.string(), "') failed after ", written_,
                   " bytes: ", detail::errno_text(e));
      }
      p += k;
      n -= std::size_t(k);
      written_ += std::uint64_t(k);
    }
  }
  void write(std::span<const std::byte> bytes) { write(bytes.data(), bytes.size()); }
  void write(std::string_view s) { write(s.data(), s.size()); }

  // fsync + close + rename over the target + fsync the directory.
  void commit() {
    FUGUE_CHECK(fd_ >= 0, "atomic write to '", target_.string(), "': commit after ", committed_ ? "commit" : "abort");
    int rc;
    do rc = ::fsync(fd_);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) fail_and_abort("fsync");
    rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) fail_and_abort("close");
    if (::rename(temp_.c_str(), target_.c_str()) != 0) fail_and_abort("rename over the target");
    committed_ = true;
    detail::fsync_directory(detail::parent_or_dot(target_));
  }

  // Discards the temporary (idempotent, never throws). The target is untouched.
  void abort() noexcept {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!committed_ && !temp_.empty()) {
      ::unlink(temp_.c_str());
      temp_.clear();
    }
  }

 private:
  [[noreturn]] void fail_and_abort(const char* what) {
    const int e = errno;
    const std::string tmp = temp_.string();
    abort();
    FUGUE_FAIL("atomic write of '", target_.string(), "': ", what, " of temporary '", tmp,
               "' failed: ", detail::errno_text(e));
  }

  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
  std::uint64_t written_ = 0;
  bool committed_ = false;
};

// Replaces `path` with `bytes`, atomically.
inline void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}
inline void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

// Replaces `path` with whatever producer(AtomicFile&) writes; if the producer throws, the
// exception propagates and `path` is untouched.
template <class Producer>
  requires std::invocable<Producer&, AtomicFile&>
void write_file_atomic(const std::filesystem::path& path, Producer&& producer) {
  AtomicFile f(path);
  producer(f);
  f.commit();
}

// Deletes ".<name>.tmp-*" leftovers of crashed writers of `path`. Returns how many were removed.
// Only call it when no other process may be writing `path` at the same time.
inline int remove_stale_temporaries(const std::filesystem::path& path) {
  const auto dir = detail::parent_or_dot(path);
  const std::string prefix = "." + path.filename().string() + ".tmp-";
  int removed = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) == 0 && it->is_regular_file()) {
      std::error_code rm;
      if (std::filesystem::remove(it->path(), rm)) ++removed;
    }
  }
  return removed;
}

}  // namespace fugue::io
