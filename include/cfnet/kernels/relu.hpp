#pragma once
/// @file kernels/relu.hpp
/// ReLU's forward and backward pass element-wise, the row-wise ReLU kernels of a dense layer over a
/// batch (n rows of width w, row-major), and the scoring forms that fuse a layer's bias and ReLU with a single-output
/// layer's dot product.
///
/// Versions: the reference compiled for AVX-512 (no FMA), for AVX2 and the reference itself, the
/// widest the CPU runs; the same choice for every call, so that predictions and scores round alike.
/// The training kernels do adds, selects and max only (every version gives the reference's bits);
/// the scoring kernels multiply (their AVX2 version may contract to FMA).

#include <cfnet/kernels/dispatch.hpp>
#include <cfnet/kernels/vector.hpp>

#include <cstddef>
#include <cstdint>

namespace cfnet::kernels {

namespace ref {

/// y[i] = max(y[i], 0) (y > 0 ? y : 0, as nn::fn::Relu).
template <class T>
CFNET_KERNEL_INLINE void relu(T* __restrict y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = y[i] > T(0) ? y[i] : T(0);
}

/// dz[i] = dy[i] * (y[i] > 0 ? 1 : 0): ReLU's backward pass given its outputs y (a product, as the
/// activation's derivative times the gradient, so that a NaN gradient stays NaN).
template <class T>
CFNET_KERNEL_INLINE void relu_backward(const T* __restrict y, const T* __restrict dy, T* __restrict dz, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dz[i] = dy[i] * (y[i] > T(0) ? T(1) : T(0));
}

/// h[r][k] = max(h[r][k] + b[k], 0).
template <class T>
CFNET_KERNEL_INLINE void bias_relu_rows(const T* __restrict b, T* __restrict h, std::size_t n, std::size_t w) {
    for (std::size_t r = 0; r < n; ++r) {
        T* hr = h + r * w;
        for (std::size_t k = 0; k < w; ++k) {
            const T v = hr[k] + b[k];
            hr[k] = v > T(0) ? v : T(0);
        }
    }
}

/// d = g where h > 0, else 0, and gb[k] += sum over rows of d[r][k] (ReLU's backward pass and the
/// bias gradient in one pass).
template <class T>
CFNET_KERNEL_INLINE void relu_grad_colsum(const T* __restrict g, const T* __restrict h, T* __restrict d, std::size_t n,
                                          std::size_t w, T* __restrict gb) {
    for (std::size_t r = 0; r < n; ++r) {
        const T* gr = g + r * w;
        const T* hr = h + r * w;
        T* dr = d + r * w;
        for (std::size_t k = 0; k < w; ++k) {
            const T v = hr[k] > T(0) ? gr[k] : T(0);
            dr[k] = v;
            gb[k] += v;
        }
    }
}

/// h[r] = max((x[xpos[r]] + y[ypos[r]]) + b, 0): a layer over two concatenated inputs from the
/// per-distinct-row products of each part (x and y rows of width w).
template <class T>
CFNET_KERNEL_INLINE void gather_add_bias_relu_rows(const T* x, const T* y, const std::uint32_t* xpos,
                                                   const std::uint32_t* ypos, const T* b, T* h, std::size_t n,
                                                   std::size_t w) {
    for (std::size_t r = 0; r < n; ++r) add_bias_relu(x + xpos[r] * w, y + ypos[r] * w, b, h + r * w, w);
}

/// h[r] = max(x + y[r], 0): one row x against n rows of y.
template <class T>
CFNET_KERNEL_INLINE void broadcast_add_relu_rows(const T* x, const T* y, T* h, std::size_t n, std::size_t w) {
    for (std::size_t r = 0; r < n; ++r) add_relu(x, y + r * w, h + r * w, w);
}

/// out[r] += bias_relu_dot16(c[r], b, wm) (b non-null) or dot16(c[r], wm).
template <class T>
CFNET_KERNEL_INLINE void dot_rows(const T* c, const T* b, const T* wm, T* out, std::size_t n, std::size_t w) {
    if (b)
        for (std::size_t r = 0; r < n; ++r) out[r] += bias_relu_dot16(c + r * w, b, wm, w);
    else
        for (std::size_t r = 0; r < n; ++r) out[r] += dot16(c + r * w, wm, w);
}

}  // namespace ref

#ifdef CFNET_SIMD_DISPATCH
namespace simd {

#define CFNET_RELU_CLONES(NAME, AVX2_TARGET, PARAMS, ARGS)                 \
    CFNET_KERNEL_CLONE(NAME, avx512, CFNET_TARGET_AVX512, PARAMS, ARGS) \
    CFNET_KERNEL_CLONE(NAME, avx2, AVX2_TARGET, PARAMS, ARGS)
CFNET_RELU_CLONES(relu, CFNET_TARGET_AVX2, (T* y, std::size_t n), (y, n))
CFNET_RELU_CLONES(relu_backward, CFNET_TARGET_AVX2, (const T* y, const T* dy, T* dz, std::size_t n), (y, dy, dz, n))
CFNET_RELU_CLONES(bias_relu_rows, CFNET_TARGET_AVX2, (const T* b, T* h, std::size_t n, std::size_t w), (b, h, n, w))
CFNET_RELU_CLONES(relu_grad_colsum, CFNET_TARGET_AVX2,
                  (const T* g, const T* h, T* d, std::size_t n, std::size_t w, T* gb), (g, h, d, n, w, gb))
CFNET_RELU_CLONES(gather_add_bias_relu_rows, CFNET_TARGET_AVX2,
                  (const T* x, const T* y, const std::uint32_t* xpos, const std::uint32_t* ypos, const T* b, T* h,
                   std::size_t n, std::size_t w),
                  (x, y, xpos, ypos, b, h, n, w))
CFNET_RELU_CLONES(broadcast_add_relu_rows, CFNET_TARGET_AVX2_FMA,
                  (const T* x, const T* y, T* h, std::size_t n, std::size_t w), (x, y, h, n, w))
CFNET_RELU_CLONES(dot_rows, CFNET_TARGET_AVX2_FMA,
                  (const T* c, const T* b, const T* wm, T* out, std::size_t n, std::size_t w), (c, b, wm, out, n, w))
#undef CFNET_RELU_CLONES

}  // namespace simd
#define CFNET_RELU_DISPATCH(NAME, ARGS)                         \
    if (use_avx512()) return simd::NAME##_avx512 ARGS;          \
    if (use_avx2()) return simd::NAME##_avx2 ARGS;
#else
#define CFNET_RELU_DISPATCH(NAME, ARGS)
#endif

/// y[i] = max(y[i], 0) for i < n, in place.
template <class T>
void relu(T* y, std::size_t n) {
    CFNET_RELU_DISPATCH(relu, (y, n))
    ref::relu(y, n);
}

/// dz[i] = dy[i] * (y[i] > 0 ? 1 : 0) for i < n (dz may not alias dy or y).
template <class T>
void relu_backward(const T* y, const T* dy, T* dz, std::size_t n) {
    CFNET_RELU_DISPATCH(relu_backward, (y, dy, dz, n))
    ref::relu_backward(y, dy, dz, n);
}

/// h[r][k] = max(h[r][k] + b[k], 0) for n rows of width w.
template <class T>
void bias_relu_rows(const T* b, T* h, std::size_t n, std::size_t w) {
    CFNET_RELU_DISPATCH(bias_relu_rows, (b, h, n, w))
    ref::bias_relu_rows(b, h, n, w);
}

/// d = g where h > 0, else 0 (n rows of width w), and gb[k] += sum over rows of d[r][k].
template <class T>
void relu_grad_colsum(const T* g, const T* h, T* d, std::size_t n, std::size_t w, T* gb) {
    CFNET_RELU_DISPATCH(relu_grad_colsum, (g, h, d, n, w, gb))
    ref::relu_grad_colsum(g, h, d, n, w, gb);
}

/// h[r] = max((x[xpos[r]] + y[ypos[r]]) + b, 0) for n rows of width w.
template <class T>
void gather_add_bias_relu_rows(const T* x, const T* y, const std::uint32_t* xpos, const std::uint32_t* ypos,
                               const T* b, T* h, std::size_t n, std::size_t w) {
    CFNET_RELU_DISPATCH(gather_add_bias_relu_rows, (x, y, xpos, ypos, b, h, n, w))
    ref::gather_add_bias_relu_rows(x, y, xpos, ypos, b, h, n, w);
}

/// h[r] = max(x + y[r], 0) for n rows of width w.
template <class T>
void broadcast_add_relu_rows(const T* x, const T* y, T* h, std::size_t n, std::size_t w) {
    CFNET_RELU_DISPATCH(broadcast_add_relu_rows, (x, y, h, n, w))
    ref::broadcast_add_relu_rows(x, y, h, n, w);
}

/// out[r] += max(c[r] + b, 0) . wm (b non-null) or c[r] . wm, for n rows of width w (dot16's order).
template <class T>
void dot_rows(const T* c, const T* b, const T* wm, T* out, std::size_t n, std::size_t w) {
    CFNET_RELU_DISPATCH(dot_rows, (c, b, wm, out, n, w))
    ref::dot_rows(c, b, wm, out, n, w);
}

#undef CFNET_RELU_DISPATCH

}  // namespace cfnet::kernels
