// fugue/nn/detail/conv_kernels.hpp — im2col / col2im and the GEMM-based convolution kernels.
//
// Contract: conv_geometry describes a 2-D convolution in PyTorch's layout (NCHW input,
// weight [C_out, C_in/groups, kH, kW]) with per-side zero padding (top, bottom, left,
// right: asymmetric padding covers TF "SAME" and causal 1-D convolution), stride and
// dilation. A 1-D convolution is the case H = 1, kH = 1. The kernels work on
// contiguous row-major host buffers and call the backend's GEMM:
//  * conv_forward: y = conv(x, w) (+ bias), y [N, C_out, Ho, Wo].
//  * conv_backward_data: dx += conv^T(dy, w) (col2im of W^T dy) — also the forward
//    pass of the transposed convolution.
//  * conv_backward_weight: dw += dy (x)-im2col^T — also the weight gradient of the
//    transposed convolution with the roles of x and y swapped.
// The column buffer is [C_in/groups * kH * kW, Ho * Wo] per sample and group; rows are
// ordered (c, kh, kw), i.e. the flattened weight row. Nothing here throws: the
// callers (nn/conv*.hpp) validate shapes and raise fugue::error.
// Backends: host-accessible ones run the row-wise im2col / col2im loops below; the others
// (cuda::device and its Thrust host systems) build and fold the column buffer one element per
// call of a portable functor through B::generate (im2col_at, col2im_at: col2im in gather form,
// each dx element summing the column entries that read it, in the host loop's order), and
// the GEMMs are B::gemm either way.
#pragma once

#include <algorithm>
#include <cstdint>

#include "fugue/core/host_device.hpp"
#include "fugue/tensor.hpp"
#include "fugue/nn/detail/channel_bias.hpp"

namespace fugue::nn::detail {

struct conv_geometry {
  index_t n = 1, c_in = 1, h = 1, w = 1;  // input
  index_t c_out = 1, kh = 1, kw = 1;      // weight [c_out, c_in / groups, kh, kw]
  index_t stride_h = 1, stride_w = 1;
  index_t dil_h = 1, dil_w = 1;
  index_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  index_t groups = 1;

  index_t out_h() const { return (h + pad_top + pad_bottom - dil_h * (kh - 1) - 1) / stride_h + 1; }
  index_t out_w() const { return (w + pad_left + pad_right - dil_w * (kw - 1) - 1) / stride_w + 1; }
  index_t cin_g() const { return c_in / groups; }
  index_t cout_g() const { return c_out / groups; }
  index_t col_rows() const { return cin_g() * kh * kw; }
  index_t col_cols() const { return out_h() * out_w(); }
  bool valid() const {
    return n >= 0 && c_in > 0 && c_out > 0 && groups > 0 && c_in % groups == 0 && c_out % groups == 0 && kh > 0 &&
           kw > 0 && stride_h > 0 && stride_w > 0 && dil_h > 0 && dil_w > 0 && pad_top >= 0 && pad_bottom >= 0 &&
           pad_left >= 0 && pad_right >= 0 && h + pad_top + pad_bottom >= dil_h * (kh - 1) + 1 &&
           w + pad_left + pad_right >= dil_w * (kw - 1) + 1;
  }
};

// col[(c*kh + i)*kw + j, oh*Wo + ow] = x[c, oh*sh - pt + i*dh, ow*sw - pl + j*dw] (0 outside).
// x points at channel 0 of the group ([cin_g, H, W] contiguous).
template <class T>
void im2col(const conv_geometry& g, const T* x, T* col) {
  const index_t Ho = g.out_h(), Wo = g.out_w(), H = g.h, W = g.w;
  for (index_t c = 0; c < g.cin_g(); ++c)
    for (index_t i = 0; i < g.kh; ++i)
      for (index_t j = 0; j < g.kw; ++j) {
        T* row = col + ((c * g.kh + i) * g.kw + j) * Ho * Wo;
        const T* xc = x + c * H * W;
        // ow range where iw = ow*sw - pl + j*dw lies in [0, W)
        const index_t off_w = j * g.dil_w - g.pad_left;
        index_t ow0 = off_w >= 0 ? 0 : (-off_w + g.stride_w - 1) / g.stride_w;
        index_t ow1 = W - off_w <= 0 ? 0 : (W - off_w + g.stride_w - 1) / g.stride_w;  // exclusive
        ow0 = std::min(ow0, Wo);
        ow1 = std::clamp(ow1, ow0, Wo);
        for (index_t oh = 0; oh < Ho; ++oh) {
          T* r = row + oh * Wo;
          const index_t ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
          if (ih < 0 || ih >= H) {
            std::fill(r, r + Wo, T(0));
            continue;
          }
          const T* xr = xc + ih * W + off_w;
          std::fill(r, r + ow0, T(0));
          if (g.stride_w == 1) {
            std::copy(xr + ow0, xr + ow1, r + ow0);
          } else {
            for (index_t ow = ow0; ow < ow1; ++ow) r[ow] = xr[ow * g.stride_w];
          }
          std::fill(r + ow1, r + Wo, T(0));
        }
      }
}

// The adjoint of im2col: dx[c, ih, iw] += col[...] for every column entry that read it.
template <class T>
void col2im(const conv_geometry& g, const T* col, T* dx) {
  const index_t Ho = g.out_h(), Wo = g.out_w(), H = g.h, W = g.w;
  for (index_t c = 0; c < g.cin_g(); ++c)
    for (index_t i = 0; i < g.kh; ++i)
      for (index_t j = 0; j < g.kw; ++j) {
        const T* row = col + ((c * g.kh + i) * g.kw + j) * Ho * Wo;
        T* xc = dx + c * H * W;
        const index_t off_w = j * g.dil_w - g.pad_left;
        index_t ow0 = off_w >= 0 ? 0 : (-off_w + g.stride_w - 1) / g.stride_w;
        index_t ow1 = W - off_w <= 0 ? 0 : (W - off_w + g.stride_w - 1) / g.stride_w;
        ow0 = std::min(ow0, Wo);
        ow1 = std::clamp(ow1, ow0, Wo);
        for (index_t oh = 0; oh < Ho; ++oh) {
          const index_t ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
          if (ih < 0 || ih >= H) continue;
          const T* r = row + oh * Wo;
          T* xr = xc + ih * W + off_w;
          for (index_t ow = ow0; ow < ow1; ++ow) xr[ow * g.stride_w] += r[ow];
        }
      }
}

// The geometry as plain integers for the portable functors (conv_geometry's members are
// host functions).
struct conv_index_geometry {
  index_t h, w, ho, wo, kh, kw, sh, sw, dh, dw, pt, pl;
  explicit conv_index_geometry(const conv_geometry& g)
      : h(g.h),
        w(g.w),
        ho(g.out_h()),
        wo(g.out_w()),
        kh(g.kh),
        kw(g.kw),
        sh(g.stride_h),
        sw(g.stride_w),
        dh(g.dil_h),
        dw(g.dil_w),
        pt(g.pad_top),
        pl(g.pad_left) {}
};

// col[r, p] (flattened r * Ho*Wo + p) of one group's im2col (x: its channel 0, [cin_g, H, W]).
template <class T>
struct im2col_at {
  conv_index_geometry d;
  const T* x;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t idx) const {
    const index_t P = d.ho * d.wo, r = index_t(idx) / P, p = index_t(idx) % P;
    const index_t c = r / (d.kh * d.kw), i = (r / d.kw) % d.kh, j = r % d.kw;
    const index_t ih = (p / d.wo) * d.sh - d.pt + i * d.dh, iw = (p % d.wo) * d.sw - d.pl + j * d.dw;
    return ih >= 0 && ih < d.h && iw >= 0 && iw < d.w ? x[(c * d.h + ih) * d.w + iw] : T(0);
  }
};

// dx[c, ih, iw] (flattened idx) plus every column entry of one group that read that input:
// kernel taps (i, j) in the order col2im adds them, for the output position each maps to.
template <class T>
struct col2im_at {
  conv_index_geometry d;
  const T* col;
  const T* dx;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t idx) const {
    const index_t hw = d.h * d.w, c = index_t(idx) / hw, ih = (index_t(idx) % hw) / d.w, iw = index_t(idx) % d.w;
    const index_t P = d.ho * d.wo;
    T v = dx[idx];
    for (index_t i = 0; i < d.kh; ++i) {
      const index_t th = ih + d.pt - i * d.dh;
      if (th < 0 || th % d.sh != 0 || th / d.sh >= d.ho) continue;
      for (index_t j = 0; j < d.kw; ++j) {
        const index_t tw = iw + d.pl - j * d.dw;
        if (tw < 0 || tw % d.sw != 0 || tw / d.sw >= d.wo) continue;
        v += col[((c * d.kh + i) * d.kw + j) * P + (th / d.sh) * d.wo + tw / d.sw];
      }
    }
    return v;
  }
};

// The column buffer of one group and sample, on B.
template <class B, class T>
void fill_columns(const conv_geometry& g, const T* xg, T* col) {
  if constexpr (B::host_accessible)
    im2col(g, xg, col);
  else
    B::generate(g.col_rows() * g.col_cols(), col, im2col_at<T>{conv_index_geometry(g), xg});
}
// dxg (one group and sample) += col2im(col), on B.
template <class B, class T>
void fold_columns(const conv_geometry& g, const T* col, T* dxg) {
  if constexpr (B::host_accessible)
    col2im(g, col, dxg);
  else
    B::generate(g.cin_g() * g.h * g.w, dxg, col2im_at<T>{conv_index_geometry(g), col, dxg});
}
// True when the column matrix is the input itself (1x1 kernel, stride 1, no padding).
inline bool conv_is_pointwise(const conv_geometry& g) {
  return g.kh == 1 && g.kw == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 && g.pad_bottom == 0 &&
         g.pad_left == 0 && g.pad_right == 0;
}

// y[n, co, :] = sum W[co, :] col(x[n]) + bias[co].   x [N, C_in, H, W], y [N, C_out, Ho, Wo].
template <class B, class T>
void conv_forward(const conv_geometry& g, const T* x, const T* w, const T* bias, T* y) {
  const index_t P = g.col_cols(), Kc = g.col_rows(), cog = g.cout_g();
  const bool pw = conv_is_pointwise(g);
  auto col = Tensor<T, B>::empty({pw ? 0 : Kc * P});
  for (index_t n = 0; n < g.n; ++n)
    for (index_t gr = 0; gr < g.groups; ++gr) {
      const T* xg = x + (n * g.c_in + gr * g.cin_g()) * g.h * g.w;
      const T* src = xg;
      if (!pw) {
        fill_columns<B>(g, xg, col.data());
        src = col.data();
      }
      T* yg = y + (n * g.c_out + gr * cog) * P;
      B::gemm(false, false, cog, P, Kc, T(1), w + gr * cog * Kc, Kc, src, P, T(0), yg, P);
    }
  if (bias) add_channel_bias<B>(g.n, g.c_out, P, bias, y);
}

// dx += col2im(W^T dy)   (dx [N, C_in, H, W] must be initialised by the caller).
template <class B, class T>
void conv_backward_data(const conv_geometry& g, const T* dy, const T* w, T* dx) {
  const index_t P = g.col_cols(), Kc = g.col_rows(), cog = g.cout_g();
  const bool pw = conv_is_pointwise(g);
  auto col = Tensor<T, B>::empty({pw ? 0 : Kc * P});
  for (index_t n = 0; n < g.n; ++n)
    for (index_t gr = 0; gr < g.groups; ++gr) {
      const T* dyg = dy + (n * g.c_out + gr * cog) * P;
      T* dxg = dx + (n * g.c_in + gr * g.cin_g()) * g.h * g.w;
      if (pw) {
        B::gemm(true, false, Kc, P, cog, T(1), w + gr * cog * Kc, Kc, dyg, P, T(1), dxg, P);
      } else {
        B::gemm(true, false, Kc, P, cog, T(1), w + gr * cog * Kc, Kc, dyg, P, T(0), col.data(), P);
        fold_columns<B>(g, col.data(), dxg);
      }
    }
}

// dw += dy col(x)^T   (dw [C_out, C_in/groups, kH, kW] initialised by the caller).
template <class B, class T>
void conv_backward_weight(const conv_geometry& g, const T* x, const T* dy, T* dw) {
  const index_t P = g.col_cols(), Kc = g.col_rows(), cog = g.cout_g();
  const bool pw = conv_is_pointwise(g);
  auto col = Tensor<T, B>::empty({pw ? 0 : Kc * P});
  for (index_t n = 0; n < g.n; ++n)
    for (index_t gr = 0; gr < g.groups; ++gr) {
      const T* xg = x + (n * g.c_in + gr * g.cin_g()) * g.h * g.w;
      const T* src = xg;
      if (!pw) {
        fill_columns<B>(g, xg, col.data());
        src = col.data();
      }
      const T* dyg = dy + (n * g.c_out + gr * cog) * P;
      B::gemm(false, true, cog, Kc, P, T(1), dyg, P, src, P, T(1), dw + gr * cog * Kc, Kc);
    }
}

// db[co] += sum over n and positions of dy[n, co, :].
template <class B, class T>
void conv_backward_bias(index_t n, index_t c, index_t positions, const T* dy, T* db) {
  if constexpr (B::host_accessible) {
    for (index_t i = 0; i < n; ++i)
      for (index_t co = 0; co < c; ++co) {
        const T* r = dy + (i * c + co) * positions;
        T s = 0;
        for (index_t p = 0; p < positions; ++p) s += r[p];
        db[co] += s;
      }
  } else {  // per (sample, channel) row sums, then down the samples into db
    auto rows = Tensor<T, B>::empty({n * c});
    B::row_sum(n * c, positions, dy, rows.data());
    B::col_sum(n, c, rows.data(), db, true);
  }
}

}  // namespace fugue::nn::detail
