#pragma once
/// @file kernels/dispatch.hpp
/// The one SIMD dispatch idiom of cfnet (docs/concepts.md, "Kernels").
///
/// A kernel is a public function in cfnet::kernels that holds every path: it picks, at run time,
/// the widest version the CPU runs and falls back to its plain reference itself (callers never
/// write a fallback). The versions are
///  - `ref::name`: the plain reference, portable C++ loops (always inlined, so that a version
///    compiled for a wider target vectorises it);
///  - `simd::name_avx2` / `simd::name_avx512`: the reference recompiled for that target through
///    CFNET_TARGET_*, or hand-written intrinsics for it (AVX-512 register tiles).
/// Nothing is imposed on users through -march: the wide versions carry target attributes and run
/// only when the CPU has the instructions (cpuid, once). CFNET_NO_SIMD_DISPATCH compiles the
/// references only (as on a non-x86 machine); tests also switch dispatch off at run time
/// (simd_dispatch_enabled() = false) to check every reference on this machine.
///
/// This folder includes nothing above config.hpp / tensor.hpp; every intrinsic of the library
/// lives in it.

#include <cfnet/config.hpp>

#include <cstddef>
#include <type_traits>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(CFNET_NO_SIMD_DISPATCH)
#define CFNET_SIMD_DISPATCH 1
#endif

#if defined(__GNUC__) || defined(__clang__)
/// A reference body: always inlined, so that a target clone compiles its loops for that target
/// (GCC does not inline a baseline function into a target("avx2") one otherwise).
#define CFNET_KERNEL_INLINE __attribute__((always_inline)) inline
#else
#define CFNET_KERNEL_INLINE inline
#endif

#ifdef CFNET_SIMD_DISPATCH
#include <immintrin.h>
/// AVX2 without FMA: each lane does exactly the scalar operations (bit-identical to the reference).
#define CFNET_TARGET_AVX2 __attribute__((target("avx2")))
/// AVX2 with FMA: a multiply and an add may be contracted (a few ulps from the reference).
#define CFNET_TARGET_AVX2_FMA __attribute__((target("avx2,fma")))
/// AVX-512F without FMA.
#define CFNET_TARGET_AVX512 __attribute__((target("avx512f")))
/// AVX-512F with FMA: the hand-written register-tile kernels.
#define CFNET_TARGET_AVX512_FMA __attribute__((target("avx512f,fma")))

/// Defines simd::NAME_SUFFIX(PARAMS), the reference ref::NAME(ARGS) compiled for TARGET (one of the
/// CFNET_TARGET_* above). Use inside namespace cfnet::kernels::simd, for a kernel templated on T.
#define CFNET_KERNEL_CLONE(NAME, SUFFIX, TARGET, PARAMS, ARGS) \
    template <class T>                                          \
    TARGET void NAME##_##SUFFIX PARAMS {                        \
        ref::NAME ARGS;                                         \
    }
#endif

namespace cfnet::kernels {

/// Run-time switch of the dispatch (on by default; tests turn it off to run the references on this
/// machine too). Has no effect where dispatch is not compiled in.
inline bool& simd_dispatch_enabled() {
    static bool enabled = true;
    return enabled;
}

/// True when the AVX2 versions will run: dispatch compiled in and enabled, and the CPU has AVX2+FMA.
inline bool use_avx2() {
#ifdef CFNET_SIMD_DISPATCH
    static const bool cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return simd_dispatch_enabled() && cpu;
#else
    return false;
#endif
}

/// True when the AVX-512 versions will run: dispatch compiled in and enabled, and the CPU has
/// AVX-512F and FMA. Independent of use_avx2(): a kernel without an AVX-512 version uses its AVX2
/// one on such a CPU.
inline bool use_avx512() {
#ifdef CFNET_SIMD_DISPATCH
    static const bool cpu = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    return simd_dispatch_enabled() && cpu;
#else
    return false;
#endif
}

/// True when the AVX-512 register-tile versions apply to rows of `width` elements of T: float,
/// width a multiple of 16, AVX-512 in use. Layers use it to choose a data layout or a fused path
/// (never to choose a fallback: every kernel has its own).
template <class T>
bool avx512_tiles(std::size_t width) {
    return std::is_same_v<T, float> && width % 16 == 0 && use_avx512();
}

}  // namespace cfnet::kernels
