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
#pragma once

#include "fugue/backend/host_only.hpp"

#include <algorithm>
#include <vector>

#include "fugue/core/tensor.hpp"

namespace fugue::nn::detail {

struct conv_geometry {
  index_t n = 1, c_in = 1, h = 1, w = 1;    // input
  index_t c_out = 1, kh = 1, kw = 1;         // weight [c_out, c_in / groups, kh, kw]
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
    return n >= 0 && c_in > 0 && c_out > 0 && groups > 0 && c_in % groups == 0 && c_out % groups == 0 &&
           kh > 0 && kw > 0 && stride_h > 0 && stride_w > 0 && dil_h > 0 && dil_w > 0 && pad_top >= 0 &&
           pad_bottom >= 0 && pad_left >= 0 && pad_right >= 0 &&
           h + pad_top + pad_bottom >= dil_h * (kh - 1) + 1 && w + pad_left + pad_right >= dil_w * (kw - 1) + 1;
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

// True when the column matrix is the input itself (1x1 kernel, stride 1, no padding).
inline bool conv_is_pointwise(const conv_geometry& g) {
  return g.kh == 1 && g.kw == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 && g.pad_bottom == 0 &&
         g.pad_left == 0 && g.pad_right == 0;
}

// y[n, co, :] = sum W[co, :] col(x[n]) + bias[co].   x [N, C_in, H, W], y [N, C_out, Ho, Wo].
template <class B, class T>
void conv_forward(const conv_geometry& g, const T* x, const T* w, const T* bias, T* y) {
  FUGUE_REQUIRE_HOST_BACKEND(B, "the im2col convolution");
  const index_t P = g.col_cols(), Kc = g.col_rows(), cog = g.cout_g();
  const bool pw = conv_is_pointwise(g);
  std::vector<T> col(pw ? 0 : std::size_t(Kc * P));
  for (index_t n = 0; n < g.n; ++n)
    for (index_t gr = 0; gr < g.groups; ++gr) {
      const T* xg = x + (n * g.c_in + gr * g.cin_g()) * g.h * g.w;
      const T* src = xg;
      if (!pw) {
        im2col(g, xg, col.data());
        src = col.data();
      }
      T* yg = y + (n * g.c_out + gr * cog) * P;
      B::gemm(false, false, cog, P, Kc, T(1), w + gr * cog * Kc, Kc, src, P, T(0), yg, P);
      if (bias)
        for (index_t co = 0; co < cog; ++co) {
          const T b = bias[gr * cog + co];
          T* r = yg + co * P;
          for (index_t p = 0; p < P; ++p) r[p] += b;
        }
    }
}

// dx += col2im(W^T dy)   (dx [N, C_in, H, W] must be initialised by the caller).
template <class B, class T>
void conv_backward_data(const conv_geometry& g, const T* dy, const T* w, T* dx) {
  FUGUE_REQUIRE_HOST_BACKEND(B, "the im2col convolution");
  const index_t P = g.col_cols(), Kc = g.col_rows(), cog = g.cout_g();
  const bool pw = conv_is_pointwise(g);
  std::vector<T> col(pw ? 0 : std::size_t(Kc * P));
  for (index_t n = 0; n < g.n; ++n)
    for (index_t gr = 0; gr < g.groups; ++gr) {
      const T* dyg = dy + (n * g.c_out + gr * cog) * P;
      T* dxg = dx + (n * g.c_in + gr * g.cin_g()) * g.h * g.w;
      if (pw) {
        B::gemm(true, false, Kc, P, cog, T(1), w + gr * cog * Kc, Kc, dyg, P, T(1), dxg, P);
      } else {
        B::gemm(true, false, Kc, P, cog, T(1), w + gr * cog * Kc, Kc, dyg, P, T(0), col.data(), P);
        col2im(g, col.data(), dxg);
      }
    }
}

// dw += dy col(x)^T   (dw [C_out, C_in/groups, kH, kW] initialised by the caller).
template <class B, class T>
void conv_backward_weight(const conv_geometry& g, const T* x, const T* dy, T* dw) {
  FUGUE_REQUIRE_HOST_BACKEND(B, "the im2col convolution");
  const index_t P = g.col_cols(), Kc = g.col_rows(), cog = g.cout_g();
  const bool pw = conv_is_pointwise(g);
  std::vector<T> col(pw ? 0 : std::size_t(Kc * P));
  for (index_t n = 0; n < g.n; ++n)
    for (index_t gr = 0; gr < g.groups; ++gr) {
      const T* xg = x + (n * g.c_in + gr * g.cin_g()) * g.h * g.w;
      const T* src = xg;
      if (!pw) {
        im2col(g, xg, col.data());
        src = col.data();
      }
      const T* dyg = dy + (n * g.c_out + gr * cog) * P;
      B::gemm(false, true, cog, Kc, P, T(1), dyg, P, src, P, T(1), dw + gr * cog * Kc, Kc);
    }
}

// db[co] += sum over n and positions of dy[n, co, :].
template <class T>
void conv_backward_bias(index_t n, index_t c, index_t positions, const T* dy, T* db) {
  for (index_t i = 0; i < n; ++i)
    for (index_t co = 0; co < c; ++co) {
      const T* r = dy + (i * c + co) * positions;
      T s = 0;
      for (index_t p = 0; p < positions; ++p) s += r[p];
      db[co] += s;
    }
}

}  // namespace fugue::nn::detail
