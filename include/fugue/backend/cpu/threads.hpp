// fugue/backend/cpu/threads.hpp — the CPU backend's optional worker threads.
//
// Contract: set_num_threads(n) chooses how many threads CPU kernels may use
// (default 1: fugue never spawns threads unless asked). parallel_for(n, f)
// calls f(i) for every i in [0, n) and returns when all calls are done; with one
// thread, or when called from inside a worker, it runs inline. Workers are
// created lazily and reused; the pool is process-wide. f must not throw.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
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
    threads_ = n;
  }
  int num_threads() const { return threads_; }

  template <class F>
  void parallel_for(int n, F&& f) {
    if (n <= 0) return;
    if (threads_ <= 1 || n == 1 || in_worker()) {
      for (int i = 0; i < n; ++i) f(i);
      return;
    }
    std::lock_guard lock(config_mutex_);  // one parallel region at a time
    start_workers();
    std::function<void(int)> job = [&f](int i) { f(i); };
    {
      std::lock_guard jl(job_mutex_);
      job_ = &job;
      next_.store(0);
      tasks_ = n;
      pending_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    wake_.notify_all();
    run_tasks();
    std::unique_lock jl(job_mutex_);
    done_.wait(jl, [this] { return pending_ == 0; });
    job_ = nullptr;
  }

  ~thread_pool() { stop_workers(); }

 private:
  static bool& in_worker() {
    thread_local bool flag = false;
    return flag;
  }
  void run_tasks() {
    for (int i = next_.fetch_add(1); i < tasks_; i = next_.fetch_add(1)) (*job_)(i);
  }
  void start_workers() {
    if (!workers_.empty()) return;
    quit_ = false;
    for (int t = 1; t < threads_; ++t)
      workers_.emplace_back([this] {
        in_worker() = true;
        unsigned seen = 0;
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

  int threads_ = 1;
  std::mutex config_mutex_;
  std::mutex job_mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  std::function<void(int)>* job_ = nullptr;
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
