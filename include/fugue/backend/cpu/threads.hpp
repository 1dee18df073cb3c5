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
#pragma once

#include <algorithm>
#include <atomic>
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
    {
      std::lock_guard jl(job_mutex_);
      job_ctx_ = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
      job_fn_ = [](void* ctx, int i) { (*static_cast<Fn*>(ctx))(i); };
      next_.store(0);
      tasks_ = n;
      pending_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    wake_.notify_all();
    in_worker() = true;  // a nested parallel_for from one of our tasks runs inline
    run_tasks();
    in_worker() = false;
    std::unique_lock jl(job_mutex_);
    done_.wait(jl, [this] { return pending_ == 0; });
    job_ctx_ = nullptr;
    job_fn_ = nullptr;
  }

  ~thread_pool() { stop_workers(); }

 private:
  static bool& in_worker() {
    thread_local bool flag = false;
    return flag;
  }
  void run_tasks() {
    for (int i = next_.fetch_add(1); i < tasks_; i = next_.fetch_add(1)) job_fn_(job_ctx_, i);
  }
  void start_workers() {
    if (!workers_.empty()) return;
    unsigned start_gen;
    {
      std::lock_guard jl(job_mutex_);
      quit_ = false;
      start_gen = generation_;
    }
    // A new worker must start from the current generation: starting from 0 after
    // a restart (set_num_threads) would make it run a stale generation and
    // decrement pending_ twice, releasing the caller before the work was done.
    for (int t = 1; t < num_threads(); ++t)
      workers_.emplace_back([this, start_gen] {
        in_worker() = true;
        unsigned seen = start_gen;
        for (;;) {
          {
            std::unique_lock jl(job_mutex_);
            wake_.wait(jl, [&] { return quit_ || generation_ != seen; });
            if (quit_) return;
            seen = generation_;
          }
          run_tasks();
          std::lock_guard jl(job_mutex_);
          if (--pending_ == 0) done_.notify_all();
        }
      });
  }
  void stop_workers() {
    {
      std::lock_guard jl(job_mutex_);
      quit_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::atomic<int> threads_{1};
  std::mutex config_mutex_;
  std::mutex job_mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  void* job_ctx_ = nullptr;
  void (*job_fn_)(void*, int) = nullptr;
  std::atomic<int> next_{0};
  int tasks_ = 0;
  int pending_ = 0;
  unsigned generation_ = 0;
  bool quit_ = false;
};

inline void set_num_threads(int n) { thread_pool::instance().set_num_threads(n); }
inline int num_threads() { return thread_pool::instance().num_threads(); }
template <class F>
void parallel_for(int n, F&& f) {
  thread_pool::instance().parallel_for(n, std::forward<F>(f));
}

}  // namespace fugue::cpu
