// Accuracy of the named functors of fugue/core/functors.hpp, applied
// through kernels::map (SIMD body and scalar tail), against long-double
// references, measured in units in the last place of T. The maximum ulp error
// of every (function, Arch, T) is printed (run the binary with -s or see the
// table on stdout) and checked against the stated bound.
#include <map>
#include <numeric>
#include <type_traits>

#include "common.hpp"

using namespace kt;

namespace {

LD sigmoid_ref(LD x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }
LD softplus_ref(LD x) { return std::max(x, LD(0)) + std::log1p(std::exp(-std::fabs(x))); }

struct case_t {
  const char* name;
  double lo, hi;  // input range (float); double uses lo_d/hi_d
  double lo_d, hi_d;
  bool log_uniform;  // sample |x| log-uniformly in [lo, hi] (positive ranges)
  LD (*ref)(LD);
  double max_ulp_float, max_ulp_double;  // the bounds asserted
  // false: the bound is on the raw ulp error. true: on ulp / (1 + cond(x)), where
  // cond(x) = |x f'(x) / f(x)| is the function's own condition number; composites
  // such as gelu (cond ~ x^2 for x << 0) lose that much in any T-precision
  // evaluation, since their inner arguments are rounded.
  bool conditioned = false;
};

// Bounds: measured maxima (see the printed table) rounded up with headroom.
const case_t cases[] = {
    {"exp", -87, 88, -700, 700, false, [](LD x) { return std::exp(x); }, 2, 2},
    {"log", 1e-30, 1e30, 1e-300, 1e300, true, [](LD x) { return std::log(x); }, 2, 2},
    {"sqrt", 1e-30, 1e30, 1e-300, 1e300, true, [](LD x) { return std::sqrt(x); }, 1, 1},
    {"rsqrt", 1e-30, 1e30, 1e-300, 1e300, true, [](LD x) { return 1 / std::sqrt(x); }, 2, 2},
    {"tanh", -12, 12, -25, 25, false, [](LD x) { return std::tanh(x); }, 4, 4},
    {"sigmoid", -87, 87, -700, 700, false, sigmoid_ref, 4, 4},
    {"softplus", -80, 80, -700, 700, false, softplus_ref, 4, 4},
    {"exp_sigmoid", -30, 30, -30, 30, false,
     [](LD x) { return 2 * std::pow(sigmoid_ref(x), std::log(LD(10))) + LD(1e-7); }, 6, 6,
     true},  // + rounding of ln 10 as T
    {"gelu_tanh", -10, 10, -20, 20, false,
     [](LD x) { return x * sigmoid_ref(2 * LD(0.7978845608028654) * (x + LD(0.044715) * x * x * x)); }, 4, 4, true},
    {"gelu_erf", -10, 10, -20, 20, false,
     // float 6: xsimd's AVX-512 float erfc measured 3.74 (-O3) and 4.70 (the sanitizer build)
     // ulp / (1 + cond) on an AVX-512 EPYC; AVX2 and double stay under 4.
     [](LD x) { return LD(0.5) * x * std::erfc(-x / std::sqrt(LD(2))); }, 6, 4, true},
    {"silu", -80, 80, -700, 700, false, [](LD x) { return x * sigmoid_ref(x); }, 4, 4},
};

struct errors {
  LD raw = 0;   // max ulp error
  LD cond = 0;  // max ulp error / (1 + cond(x))
};

LD condition(const case_t& k, LD x) {
  const LD h = LD(1e-6) * std::max(std::fabs(x), LD(1e-3));
  const LD f = k.ref(x), d = (k.ref(x + h) - k.ref(x - h)) / (2 * h);
  return f == 0 ? 0 : std::fabs(x * d / f);
}

template <class T, class A, class F>
errors max_ulp_error(const case_t& k, F f) {
  std::mt19937_64 g(42);
  const bool is_f = std::is_same_v<T, float>;
  const double lo = is_f ? k.lo : k.lo_d, hi = is_f ? k.hi : k.hi_d;
  const index_t n = 200003;  // odd: the scalar tail runs too
  std::vector<T> x(static_cast<std::size_t>(n));
  if (k.log_uniform) {
    std::uniform_real_distribution<double> d(std::log(lo), std::log(hi));
    for (auto& v : x) v = static_cast<T>(std::exp(d(g)));
  } else {
    std::uniform_real_distribution<double> d(lo, hi);
    // Half the points over the whole range, half near 0 where series switch.
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<T>(i % 2 ? d(g) : d(g) * 1e-2);
  }
  std::vector<T> y(x.size());
  K::map<A>(n, x.data(), y.data(), f);
  errors e;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const LD r = k.ref(LD(x[i]));
    const LD u = std::fabs(LD(y[i]) - r) / ulp<T>(r);
    e.raw = std::max(e.raw, u);
    if (u > 1) e.cond = std::max(e.cond, u / (1 + condition(k, LD(x[i]))));
  }
  return e;
}

template <class T, class A>
errors measure(const char* name) {
  const case_t* k = nullptr;
  for (const auto& c : cases)
    if (std::string(c.name) == name) k = &c;
  REQUIRE(k != nullptr);
  using namespace fugue::fn;
  const std::string s = name;
  if (s == "exp") return max_ulp_error<T, A>(*k, fugue::fn::exp{});
  if (s == "log") return max_ulp_error<T, A>(*k, fugue::fn::log{});
  if (s == "sqrt") return max_ulp_error<T, A>(*k, fugue::fn::sqrt{});
  if (s == "rsqrt") return max_ulp_error<T, A>(*k, rsqrt{});
  if (s == "tanh") return max_ulp_error<T, A>(*k, fugue::fn::tanh{});
  if (s == "sigmoid") return max_ulp_error<T, A>(*k, sigmoid{});
  if (s == "softplus") return max_ulp_error<T, A>(*k, softplus{});
  if (s == "exp_sigmoid") return max_ulp_error<T, A>(*k, exp_sigmoid{});
  if (s == "gelu_tanh") return max_ulp_error<T, A>(*k, gelu_tanh{});
  if (s == "gelu_erf") return max_ulp_error<T, A>(*k, gelu_erf{});
  if (s == "silu") return max_ulp_error<T, A>(*k, silu{});
  FAIL("no functor " << name);
  return {};
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("functor accuracy in ulps against long double", "[kernels][functors][accuracy]", configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  for (const auto& k : cases) {
    const errors e = measure<T, A>(k.name);
    const double bound = std::is_same_v<T, float> ? k.max_ulp_float : k.max_ulp_double;
    std::printf("ulp  %-22s %-12s max %9.2f  max/(1+cond) %6.2f  bound %.0f%s\n", TestType::name().c_str(), k.name,
                double(e.raw), double(e.cond), bound, k.conditioned ? " on max/(1+cond)" : "");
    INFO(TestType::name() << " " << k.name << ": max " << double(e.raw) << " ulp, " << double(e.cond)
                          << " ulp/(1+cond), bound " << bound);
    CHECK((k.conditioned ? e.cond : e.raw) <= bound);
  }
}

TEMPLATE_LIST_TEST_CASE("functor special values", "[kernels][functors]", configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  INFO(TestType::name());
  const T inf = std::numeric_limits<T>::infinity();
  const T big = std::numeric_limits<T>::max();
  // 17 copies: the SIMD body and the tail both see each value.
  auto apply = [](auto f, T v) {
    std::vector<T> x(17, v), y(17);
    K::map<A>(17, x.data(), y.data(), f);
    return std::pair{y[0], y[16]};
  };
  auto both = [&](auto f, T v, T want) {
    auto [b, t] = apply(f, v);
    return b == want && t == want;
  };
  using namespace fugue::fn;
  CHECK(both(sigmoid{}, inf, T(1)));
  CHECK(both(sigmoid{}, -inf, T(0)));
  CHECK(both(sigmoid{}, big, T(1)));
  CHECK(both(sigmoid{}, -big, T(0)));
  CHECK(both(softplus{}, big, big));
  CHECK(both(softplus{}, -big, T(0)));
  CHECK(both(silu{}, T(0), T(0)));
  CHECK(both(relu{}, T(-0.5), T(0)));
  CHECK(both(fugue::fn::tanh{}, T(40), T(1)));
  CHECK(both(fugue::fn::tanh{}, T(-40), T(-1)));
  CHECK(both(fugue::fn::exp{}, -inf, T(0)));
  CHECK(both(gelu_tanh{}, T(0), T(0)));
  CHECK(both(gelu_erf{}, T(0), T(0)));
  CHECK(both(gelu_tanh{}, T(-60), T(-0.0)));
  CHECK(both(gelu_erf{}, T(50), T(50)));
  // DDSP exp_sigmoid: range (1e-7, 2 + 1e-7); exp_sigmoid(-5) = 1.979e-5 (spec 3.4); exp_sigmoid(0) = 2 * 0.5^ln 10 +
  // 1e-7.
  auto [lo, lo_t] = apply(exp_sigmoid{}, -big);
  CHECK(lo == T(1e-7));
  CHECK(lo_t == T(1e-7));
  auto [hi, hi_t] = apply(exp_sigmoid{}, big);
  CHECK(hi == T(2 + 1e-7));
  CHECK(apply(exp_sigmoid{}, T(-5)).first == Approx(1.979e-5).epsilon(1e-3));
  CHECK(apply(exp_sigmoid{}, T(0)).first == Approx(2 * std::pow(0.5, std::log(10.0)) + 1e-7).epsilon(8 * eps<T>()));
  CHECK(apply(exp_sigmoid{10.0, 1.0, 0.0}, T(0)).first == Approx(std::pow(0.5, std::log(10.0))).epsilon(8 * eps<T>()));
}

// fugue::lane (core/lanes.hpp): the helpers that are not elementwise functors, on the batch of A
// and on the scalar tail alike.
TEMPLATE_LIST_TEST_CASE("lane vocabulary: partial loads and stores, horizontal sum, select", "[kernels][lanes]",
                        configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  INFO(TestType::name());
  using V = std::conditional_t<fugue::cpu::is_scalar_arch<A>, T, xsimd::batch<T, A>>;
  constexpr std::size_t W = fugue::lane::width<V>;
  std::vector<T> x(W), back(W + 1, T(-7));
  for (std::size_t i = 0; i < W; ++i) x[i] = T(i + 1);
  for (std::size_t n = 1; n <= W; ++n) {
    // The first n lanes come back, the others read as zero and are never written.
    const V v = fugue::lane::load_first<V>(x.data(), n);
    CHECK(fugue::lane::hsum(v) == T(n * (n + 1) / 2));
    std::fill(back.begin(), back.end(), T(-7));
    fugue::lane::store_first(back.data(), v, n);
    for (std::size_t i = 0; i < n; ++i) CHECK(back[i] == x[i]);
    for (std::size_t i = n; i <= W; ++i) CHECK(back[i] == T(-7));
  }
  const V v = fugue::lane::load<V>(x.data());
  // select(c, a, b) per lane: lanes above the middle keep v, the others take -v.
  const T mid = T(W) / 2;
  const V picked = fugue::lane::select(v > fugue::lane::k<V>(mid), v, -v);
  T want = 0;
  for (T xi : x) want += xi > mid ? xi : -xi;
  CHECK(fugue::lane::hsum(picked) == want);
}

// fn::exp_sigmoid_grad is the derivative of fn::exp_sigmoid: against central differences in double.
TEST_CASE("exp_sigmoid_grad is exp_sigmoid's derivative", "[kernels][functors]") {
  const fugue::fn::exp_sigmoid es{};
  const fugue::fn::exp_sigmoid_grad grad{};
  for (double x : {-12.0, -3.0, -0.5, 0.0, 0.7, 4.0, 15.0}) {
    const double h = 1e-6, fd = (es(x + h) - es(x - h)) / (2 * h);
    INFO("x = " << x);
    // Central differences: truncation ~h^2, rounding ~eps * 2 / h = 4e-10 absolute.
    CHECK(grad(2.0, x, es(x)) == Approx(2 * fd).epsilon(1e-7).margin(1e-9));
  }
}
