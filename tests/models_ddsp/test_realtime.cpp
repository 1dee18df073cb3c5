// Real-time safety of ddsp::Streamer::process: this executable interposes malloc, calloc,
// realloc, free, posix_memalign, aligned_alloc, memalign and pthread_mutex_lock (glibc exports the real
// ones as __libc_*), counting calls made while a flag is set around process(). After reset() and
// prewarm(), process() at block sizes 64..2048 on the solo_instrument-shaped decoder and the
// VST config must make none. (operator new / delete go through malloc / free in libstdc++.)
// Not run under AddressSanitizer, which owns malloc itself.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <pthread.h>

#include "fugue/models/ddsp.hpp"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
void* __libc_memalign(size_t, size_t);
}

namespace {
thread_local bool g_watch = false;
std::atomic<long> g_calls{0};
inline void note() {
  if (g_watch) g_calls.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  note();
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  note();
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  note();
  return __libc_realloc(p, n);
}
void free(void* p) {
  if (p) note();
  __libc_free(p);
}
int posix_memalign(void** out, size_t align, size_t n) {
  note();
  void* p = __libc_memalign(align, n);
  if (!p) return 12;  // ENOMEM
  *out = p;
  return 0;
}
void* aligned_alloc(size_t align, size_t n) {
  note();
  return __libc_memalign(align, n);
}
void* memalign(size_t align, size_t n) {
  note();
  return __libc_memalign(align, n);
}
// The real pthread_mutex_lock, looked up once at load time (not through a function-local static,
// whose guard would itself lock).
using lock_fn = int (*)(pthread_mutex_t*);
static lock_fn g_real_lock = nullptr;
__attribute__((constructor)) static void find_real_lock() {
  g_real_lock = reinterpret_cast<lock_fn>(dlsym(RTLD_NEXT, "pthread_mutex_lock"));
}
int pthread_mutex_lock(pthread_mutex_t* m) {
  note();
  if (!g_real_lock) find_real_lock();
  return g_real_lock(m);
}
}

using namespace fugue;
namespace dd = fugue::models::ddsp;

namespace {
template <class M>
long calls_during_process(M& m, int block, typename dd::Streamer<M>::Weights w = dd::Streamer<M>::Weights::f32) {
  dd::Streamer<M> st(m);
  st.reset(16000, block, 0, w);
  st.prewarm();
  const auto nb = static_cast<std::size_t>(block);
  std::vector<float> f0(nb), ld(nb), out(nb);
  long total = 0;
  for (int rep = 0; rep < 12; ++rep) {
    for (int i = 0; i < block; ++i) {
      f0[std::size_t(i)] = 220.f + 3.f * float(rep * block + i) / 64.f;
      ld[std::size_t(i)] = -20.f - float((rep + i) % 40);
    }
    g_calls = 0;
    g_watch = true;
    st.process(f0.data(), ld.data(), out.data(), block);
    g_watch = false;
    total += g_calls.load();
  }
  return total;
}
}  // namespace

TEST_CASE("ddsp realtime: the interposer sees allocations and locks (it can fail)", "[ddsp][realtime]") {
  g_calls = 0;
  g_watch = true;
  std::vector<float>* v = new std::vector<float>(1000);
  delete v;
  g_watch = false;
  CHECK(g_calls.load() == 4);  // two mallocs (the vector, its buffer), two frees
  std::mutex mu;
  g_calls = 0;
  g_watch = true;
  mu.lock();
  mu.unlock();
  g_watch = false;
  CHECK(g_calls.load() == 1);
}

TEST_CASE("ddsp realtime: process() makes no allocation at block sizes 64..2048", "[ddsp][realtime]") {
  {
    dd::configs::vst_16k<float> m(dd::configs::vst_16k_options());
    for (int block : {64, 128, 333, 512, 2048}) {
      INFO("vst_16k block " << block);
      CHECK(calls_during_process(m, block) == 0);
      CHECK(calls_during_process(m, block, dd::Streamer<decltype(m)>::Weights::f16) == 0);
    }
  }
  {
    dd::configs::solo_instrument<float> m;
    for (int block : {64, 128, 2048}) {
      INFO("solo_instrument block " << block);
      CHECK(calls_during_process(m, block) == 0);
    }
  }
}
