// fugue/backend/cpu/threads.hpp — the CPU backend's optional worker threads.
//
// Contract: set_num_threads(n) chooses how many threads CPU kernels may use
// (default 1: fugue never spawns threads unless asked). parallel_for(n, f)
// calls f(i) for every i in [0, n) and returns when all calls are done; with one
// thread, or when called from inside a worker, it runs inline. Workers are
// created lazily and reused; the pool is process-wide. f must not throw.
// A parallel_for issued from inside a task (on a worker or on the calling
// thread while it helps with the tasks) runs inline, so nesting cannot deadlock.
// Dispatch does not allocate: the job is passed as a (context, trampoline) pair.
// Waiting spins briefly before it sleeps: a worker that finished a job watches for the next
// one for spin_wait_microseconds (default 100) and the caller watches for its workers the
// same way, so back-to-back regions (the GEMVs of a batch-1 recurrent step, ~50 us apart)
// do not pay a futex sleep and wake-up each; idle pools block on a condition variable.
// set_spin_wait_microseconds(0) turns spinning off.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <type_traits>
#include <mutex>
#include <thread>
#include <vector>

#include "fugue/core/error.hpp"

namespace fugue::cpu {

class thread_pool {
 public:
  static thread_pool& instance() {
    static thread_pool pool;
    return pool;
  }

  void set_num_threads(int n) {
    FUGUE_CHECK(n >= 1 && n <= 256, "thread count must be in [1, 256], got ", n);
    std::lock_guard lock(config_mutex_);
    stop_workers();
    threads_.store(n, std::memory_order_relaxed);
  }
  int num_threads() const { return threads_.load(std::memory_order_relaxed); }

  template <class F>
  void parallel_for(int n, F&& f) {
    if (n <= 0) return;
    if (num_threads() <= 1 || n == 1 || in_worker()) {
      for (int i = 0; i < n; ++i) f(i);
      return;
    }
    std::lock_guard lock(config_mutex_);  // one parallel region at a time
    start_workers();
    using Fn = std::remove_reference_t<F>;
    job_ctx_ = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
    job_fn_ = [](void* ctx, int i) { (*static_cast<Fn*>(ctx))(i); };
    next_.store(0, std::memory_order_relaxed);
    tasks_ = n;
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    {
      // Under the mutex, so that a worker about to sleep sees either the old generation
      // (and is then notified) or the new one (and does not sleep).
      std::lock_guard jl(job_mutex_);
      generation_.fetch_add(1, std::memory_order_release);  // publishes the job fields above
    }
    wake_.notify_all();
    in_worker() = true;  // a nested parallel_for from one of our tasks runs inline
    run_tasks();
    in_worker() = false;
    if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock jl(job_mutex_);
      done_.wait(jl, [this] { return pending_.load(std::memory_order_acquire) == 0; });
    }
    job_ctx_ = nullptr;
    job_fn_ = nullptr;
  }

  void set_spin_wait_microseconds(int us) {
    FUGUE_CHECK(us >= 0 && us <= 1000000, "spin wait must be in [0, 1e6] microseconds, got ", us);
    spin_us_.store(us, std::memory_order_relaxed);
  }

  ~thread_pool() { stop_workers(); }

 private:
  static bool& in_worker() {
    thread_local bool flag = false;
    return flag;
  }
  static void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
  // Polls done() for up to spin_us_; true as soon as it holds, false when the time ran out.
  template <class Done>
  bool spin_until(Done&& done) const {
    const int us = spin_us_.load(std::memory_order_relaxed);
    if (done()) return true;
    if (us == 0) return false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
    for (;;) {
      for (int i = 0; i < 64; ++i) {
        cpu_relax();
        if (done()) return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
    }
  }
  void run_tasks() {
    for (int i = next_.fetch_add(1); i < tasks_; i = next_.fetch_add(1)) job_fn_(job_ctx_, i);
  }
  void start_workers() {
    if (!workers_.empty()) return;
    quit_.store(false, std::memory_order_relaxed);
    const unsigned start_gen = generation_.load(std::memory_order_relaxed);
    // A new worker must start from the current generation: starting from 0 after
    // a restart (set_num_threads) would make it run a stale generation and
    // decrement pending_ twice, releasing the caller before the work was done.
    for (int t = 1; t < num_threads(); ++t)
      workers_.emplace_back([this, start_gen] {
        in_worker() = true;
        unsigned seen = start_gen;
        auto ready = [&] {
          return quit_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
        };
        for (;;) {
          if (!spin_until(ready)) {
            std::unique_lock jl(job_mutex_);
            wake_.wait(jl, ready);
          }
          if (quit_.load(std::memory_order_acquire)) return;
          seen = generation_.load(std::memory_order_acquire);
          run_tasks();
          if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard jl(job_mutex_);  // the caller may be about to sleep on done_
            done_.notify_all();
          }
        }
      });
  }
  void stop_workers() {
    {
      std::lock_guard jl(job_mutex_);
      quit_.store(true, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::atomic<int> threads_{1};
  std::atomic<int> spin_us_{100};
  std::mutex config_mutex_;
  std::mutex job_mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  void* job_ctx_ = nullptr;
  void (*job_fn_)(void*, int) = nullptr;
  std::atomic<int> next_{0};
  int tasks_ = 0;
  std::atomic<int> pending_{0};
  std::atomic<unsigned> generation_{0};
  std::atomic<bool> quit_{false};
};

inline void set_num_threads(int n) { thread_pool::instance().set_num_threads(n); }
inline int num_threads() { return thread_pool::instance().num_threads(); }
inline void set_spin_wait_microseconds(int us) { thread_pool::instance().set_spin_wait_microseconds(us); }
template <class F>
void parallel_for(int n, F&& f) {
  thread_pool::instance().parallel_for(n, std::forward<F>(f));
}

}  // namespace fugue::cpu
