// fugue/core/shape.hpp — run-time shapes and strides.
//
// Contract: a Shape is a rank (0..max_rank) and that many non-negative extents.
// Strides are in elements (not bytes), row-major by default. Negative dimension
// indices count from the back (dim(-1) is the last). Every out-of-range access
// throws fugue::error naming the shape and the index.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <sstream>
#include <string>

#include "fugue/core/error.hpp"

namespace fugue {

using index_t = std::int64_t;
inline constexpr int max_rank = 6;

class Shape {
 public:
  constexpr Shape() = default;
  constexpr Shape(std::initializer_list<index_t> extents) {
    FUGUE_CHECK(extents.size() <= max_rank, "shape of rank ", extents.size(), " exceeds max_rank ", max_rank);
    for (index_t e : extents) {
      FUGUE_CHECK(e >= 0, "negative extent ", e, " in shape");
      e_[rank_++] = e;
    }
  }
  template <class It>
  static Shape from_range(It first, It last) {
    Shape s;
    for (; first != last; ++first) {
      FUGUE_CHECK(s.rank_ < max_rank, "shape exceeds max_rank ", max_rank);
      FUGUE_CHECK(*first >= 0, "negative extent ", *first, " in shape");
      s.e_[s.rank_++] = static_cast<index_t>(*first);
    }
    return s;
  }

  constexpr int rank() const noexcept { return rank_; }
  constexpr index_t numel() const noexcept {
    index_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= e_[i];
    return n;
  }
  // Normalises a possibly negative dimension index, checking its range.
  int axis(int d) const {
    int a = d < 0 ? d + rank_ : d;
    FUGUE_CHECK(a >= 0 && a < rank_, "dimension ", d, " out of range for shape ", str());
    return a;
  }
  index_t operator[](int d) const { return e_[axis(d)]; }
  index_t& operator[](int d) { return e_[axis(d)]; }
  const index_t* begin() const noexcept { return e_.data(); }
  const index_t* end() const noexcept { return e_.data() + rank_; }

  Shape push_back(index_t e) const {
    FUGUE_CHECK(rank_ < max_rank, "shape exceeds max_rank ", max_rank);
    Shape s = *this;
    s.e_[s.rank_++] = e;
    return s;
  }
  Shape erase(int d) const {
    int a = axis(d);
    Shape s;
    for (int i = 0; i < rank_; ++i)
      if (i != a) s.e_[s.rank_++] = e_[i];
    return s;
  }
  Shape insert(int d, index_t e) const {
    FUGUE_CHECK(rank_ < max_rank, "shape exceeds max_rank ", max_rank);
    int a = d < 0 ? d + rank_ + 1 : d;
    FUGUE_CHECK(a >= 0 && a <= rank_, "insert position ", d, " out of range for shape ", str());
    Shape s;
    for (int i = 0; i < a; ++i) s.e_[s.rank_++] = e_[i];
    s.e_[s.rank_++] = e;
    for (int i = a; i < rank_; ++i) s.e_[s.rank_++] = e_[i];
    return s;
  }

  friend constexpr bool operator==(const Shape& a, const Shape& b) noexcept {
    if (a.rank_ != b.rank_) return false;
    for (int i = 0; i < a.rank_; ++i)
      if (a.e_[i] != b.e_[i]) return false;
    return true;
  }

  std::string str() const {
    std::ostringstream os;
    os << '[';
    for (int i = 0; i < rank_; ++i) os << (i ? ", " : "") << e_[i];
    os << ']';
    return os.str();
  }
  friend std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

 private:
  std::array<index_t, max_rank> e_{};
  int rank_ = 0;
};

// Element strides of a tensor view (may be zero for broadcast dimensions).
using Strides = std::array<index_t, max_rank>;

inline Strides row_major_strides(const Shape& s) {
  Strides st{};
  index_t acc = 1;
  for (int i = s.rank() - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

// NumPy broadcasting of two shapes; throws when they are incompatible.
inline Shape broadcast_shapes(const Shape& a, const Shape& b) {
  int r = a.rank() > b.rank() ? a.rank() : b.rank();
  std::array<index_t, max_rank> out{};
  for (int i = 0; i < r; ++i) {
    index_t ea = i < a.rank() ? a[a.rank() - 1 - i] : 1;
    index_t eb = i < b.rank() ? b[b.rank() - 1 - i] : 1;
    FUGUE_CHECK(ea == eb || ea == 1 || eb == 1, "shapes ", a.str(), " and ", b.str(),
                " cannot be broadcast together (dimension ", -1 - i, ": ", ea, " vs ", eb, ")");
    out[r - 1 - i] = ea == 1 ? eb : ea;
  }
  return Shape::from_range(out.begin(), out.begin() + r);
}

}  // namespace fugue
