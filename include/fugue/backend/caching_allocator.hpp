// fugue/backend/caching_allocator.hpp — reuse freed memory blocks instead of freeing them.
//
// Contract: caching_allocator<Raw> hands out blocks obtained from Raw::allocate(bytes) and
// keeps freed blocks in per-size free lists, so a steady loop (a training step, a decode
// step) stops calling Raw::allocate after its first iteration: on the GPU that is cudaMalloc,
// which synchronises the device; on the CPU it is fresh pages the kernel must fault in and
// zero on first touch (large blocks come from mmap and go back on free). Requests are rounded up to a size class:
// multiples of 512 bytes up to 1 MiB, multiples of 1 MiB above. deallocate must be given the size that was requested
// (fugue's tensor storage always does). When Raw::allocate throws (out of memory), the cache is released once and the
// request retried before the error propagates. release_cached() returns every cached block to Raw; statistics() counts
// raw calls and cache hits so tests can assert "no new allocation". The cache holds at most cache_limit() bytes
// (Raw::default_cache_limit when Raw names one, else unbounded; set_cache_limit changes it, 0 turns caching off): a
// block freed beyond the limit goes back to Raw at once. Thread-safe (one mutex). Raw provides: static void*
// allocate(std::size_t); static void release(void*) noexcept; optionally static constexpr std::size_t
// default_cache_limit.
#pragma once

#include <cstddef>
#include <limits>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace fugue {

struct allocator_statistics {
  std::size_t raw_allocations = 0;  // calls to Raw::allocate that succeeded
  std::size_t raw_releases = 0;     // blocks given back to Raw
  std::size_t cache_hits = 0;       // requests served from a free list
  std::size_t bytes_in_use = 0;     // rounded bytes handed out and not yet returned
  std::size_t bytes_cached = 0;     // rounded bytes sitting in free lists
};

template <class Raw>
class caching_allocator {
 public:
  static caching_allocator& instance() {
    // Never destroyed: blocks may be freed by static destructors of user objects after
    // main returns, and the CUDA runtime may already be gone by then.
    static caching_allocator* a = new caching_allocator;
    return *a;
  }

  static constexpr std::size_t size_class(std::size_t bytes) {
    constexpr std::size_t small = 512, large = std::size_t(1) << 20;
    if (bytes == 0) bytes = 1;
    if (bytes <= large) return (bytes + small - 1) / small * small;
    return (bytes + large - 1) / large * large;
  }

  void* allocate(std::size_t bytes) {
    const std::size_t cls = size_class(bytes);
    {
      std::lock_guard lock(mutex_);
      auto it = free_.find(cls);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        ++stats_.cache_hits;
        stats_.bytes_cached -= cls;
        stats_.bytes_in_use += cls;
        return p;
      }
    }
    void* p = nullptr;
    try {
      p = Raw::allocate(cls);
    } catch (...) {
      release_cached();
      p = Raw::allocate(cls);  // a second failure propagates to the caller
    }
    std::lock_guard lock(mutex_);
    ++stats_.raw_allocations;
    stats_.bytes_in_use += cls;
    return p;
  }

  void deallocate(void* p, std::size_t bytes) noexcept {
    if (!p) return;
    const std::size_t cls = size_class(bytes);
    std::lock_guard lock(mutex_);
    bool cached = stats_.bytes_cached + cls <= limit_;
    if (cached) {
      try {
        free_[cls].push_back(p);
      } catch (...) {  // no memory for the free list itself: give the block back instead
        cached = false;
      }
    }
    if (!cached) {
      Raw::release(p);
      ++stats_.raw_releases;
      stats_.bytes_in_use -= cls;
      return;
    }
    stats_.bytes_in_use -= cls;
    stats_.bytes_cached += cls;
  }

  void release_cached() noexcept {
    std::lock_guard lock(mutex_);
    for (auto& [cls, blocks] : free_) {
      for (void* p : blocks) Raw::release(p);
      stats_.raw_releases += blocks.size();
      stats_.bytes_cached -= cls * blocks.size();
      blocks.clear();
    }
  }

  std::size_t cache_limit() const {
    std::lock_guard lock(mutex_);
    return limit_;
  }
  // Lowering the limit below what is cached releases the whole cache.
  void set_cache_limit(std::size_t bytes) noexcept {
    bool shrink;
    {
      std::lock_guard lock(mutex_);
      limit_ = bytes;
      shrink = stats_.bytes_cached > limit_;
    }
    if (shrink) release_cached();
  }

  allocator_statistics statistics() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  caching_allocator() = default;
  static constexpr std::size_t initial_limit() {
    if constexpr (requires { Raw::default_cache_limit; })
      return Raw::default_cache_limit;
    else
      return std::numeric_limits<std::size_t>::max();
  }
  mutable std::mutex mutex_;
  std::size_t limit_ = initial_limit();
  std::unordered_map<std::size_t, std::vector<void*>> free_;
  allocator_statistics stats_;
};

}  // namespace fugue
