// fugue/backend/cpu/memory.hpp — where the CPU backend's tensor storage comes from.
//
// Contract:
//  * allocate(bytes) / deallocate(p, bytes): 64-byte aligned blocks. Blocks of at least
//    cached_block_min bytes (256 KiB) go through a caching_allocator, so a training step that
//    frees and re-allocates the same large activations reuses them instead of getting fresh
//    pages from the kernel (glibc serves such sizes with mmap and unmaps them on free: every
//    step would page-fault and zero tens of MB again). Smaller blocks go straight to
//    operator new (malloc handles them without page faults).
//  * The cache holds at most 1 GiB of freed blocks by default; set_cache_limit(bytes) changes
//    that (0: no caching), release_cached_memory() returns every cached block to the system,
//    memory_statistics() reports raw allocations, cache hits and bytes in use / cached.
//  * Address-sanitizer builds bypass the cache, so use-after-free of tensor memory is
//    still reported (FUGUE_CPU_NO_BLOCK_CACHE does the same in any build).
#pragma once

#include <cstddef>
#include <new>

#include "fugue/backend/caching_allocator.hpp"

#if !defined(FUGUE_CPU_NO_BLOCK_CACHE)
#if defined(__SANITIZE_ADDRESS__)
#define FUGUE_CPU_NO_BLOCK_CACHE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUGUE_CPU_NO_BLOCK_CACHE 1
#endif
#endif
#endif

namespace fugue::cpu {

inline constexpr std::size_t memory_alignment = 64;
inline constexpr std::size_t cached_block_min = std::size_t(256) << 10;

struct aligned_raw_memory {
  static constexpr std::size_t default_cache_limit = std::size_t(1) << 30;
  static void* allocate(std::size_t bytes) { return ::operator new(bytes, std::align_val_t{memory_alignment}); }
  static void release(void* p) noexcept { ::operator delete(p, std::align_val_t{memory_alignment}); }
};

using block_cache = caching_allocator<aligned_raw_memory>;

#if defined(FUGUE_CPU_NO_BLOCK_CACHE)
inline constexpr bool block_cache_enabled = false;
#else
inline constexpr bool block_cache_enabled = true;
#endif

inline void* allocate(std::size_t bytes) {
  if (bytes == 0) bytes = memory_alignment;
  if (block_cache_enabled && bytes >= cached_block_min) return block_cache::instance().allocate(bytes);
  return aligned_raw_memory::allocate(bytes);
}

// bytes must be the size given to allocate.
inline void deallocate(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (bytes == 0) bytes = memory_alignment;
  if (block_cache_enabled && bytes >= cached_block_min) return block_cache::instance().deallocate(p, bytes);
  aligned_raw_memory::release(p);
}

inline void set_cache_limit(std::size_t bytes) noexcept { block_cache::instance().set_cache_limit(bytes); }
inline void release_cached_memory() noexcept { block_cache::instance().release_cached(); }
inline allocator_statistics memory_statistics() { return block_cache::instance().statistics(); }

}  // namespace fugue::cpu
