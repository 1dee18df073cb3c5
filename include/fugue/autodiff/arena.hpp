// fugue/autodiff/arena.hpp — the monotonic memory a Tape keeps its closures in.
//
// Contract: Arena::allocate(bytes, align) hands out memory from a list of
// chunks by bumping a pointer; nothing is freed one by one. reset() makes all
// of it available again without returning a single chunk to the system, so a
// training step that records the same graph as the previous one allocates
// nothing new here (tests/autodiff checks capacity() before and after).
// Objects placed in the arena are not destroyed by it: the Tape runs the
// destructors it needs before reset(). Not thread-safe; one per tape.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace fugue::ad::detail {

class Arena {
 public:
  static constexpr std::size_t default_chunk = std::size_t{64} << 10;  // 64 KiB

  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) noexcept = default;
  Arena& operator=(Arena&&) noexcept = default;

  void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    if (bytes == 0) bytes = 1;
    for (;;) {
      if (cur_ < chunks_.size()) {
        Chunk& c = chunks_[cur_];
        const auto base = reinterpret_cast<std::uintptr_t>(c.data.get());
        const std::uintptr_t p = (base + off_ + align - 1) & ~(std::uintptr_t(align) - 1);
        const std::size_t end = std::size_t(p - base) + bytes;
        if (end <= c.size) {
          used_ += end - off_;
          off_ = end;
          return reinterpret_cast<void*>(p);
        }
        // Does not fit: move on to the next chunk (a reused one, or a new one below).
        ++cur_;
        off_ = 0;
        continue;
      }
      const std::size_t size = std::max(default_chunk, bytes + align);
      chunks_.push_back(Chunk{std::unique_ptr<std::byte[]>(new std::byte[size]), size});
      capacity_ += size;
    }
  }

  template <class U, class... Args>
  U* create(Args&&... args) {
    return ::new (allocate(sizeof(U), alignof(U))) U(std::forward<Args>(args)...);
  }

  // Forget everything allocated; keep every chunk for reuse.
  void reset() noexcept {
    cur_ = 0;
    off_ = 0;
    used_ = 0;
  }
  // Give the chunks back to the system.
  void release() noexcept {
    chunks_.clear();
    capacity_ = 0;
    reset();
  }

  std::size_t used() const noexcept { return used_; }          // bytes handed out since reset (incl. padding)
  std::size_t capacity() const noexcept { return capacity_; }  // bytes held in chunks
  std::size_t chunks() const noexcept { return chunks_.size(); }

 private:
  struct Chunk {
    std::unique_ptr<std::byte[]> data;
    std::size_t size = 0;
  };
  std::vector<Chunk> chunks_;
  std::size_t cur_ = 0, off_ = 0, used_ = 0, capacity_ = 0;
};

}  // namespace fugue::ad::detail
