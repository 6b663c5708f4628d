#pragma once
/// @file detail/simd_dispatch.hpp
/// Run-time choice of SIMD kernels. On x86-64 with GCC or Clang, cfnet compiles a few hot kernels
/// a second time for AVX2 (through the target attribute) and picks them at run time when the CPU
/// has AVX2 and FMA (a few also have an AVX-512 version, see use_avx512()); define
/// CFNET_NO_SIMD_DISPATCH to compile only the baseline kernels.

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(CFNET_NO_SIMD_DISPATCH)
#define CFNET_SIMD_DISPATCH 1
#endif

namespace cfnet::detail {

/// Run-time switch of the dispatch (on by default; tests turn it off to check the baseline kernels
/// too). Has no effect where dispatch is not compiled in.
inline bool& simd_dispatch_enabled() {
    static bool enabled = true;
    return enabled;
}

/// True when the AVX2 kernels will run: dispatch compiled in and enabled, and the CPU has AVX2+FMA.
inline bool use_avx2() {
#ifdef CFNET_SIMD_DISPATCH
    static const bool cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return simd_dispatch_enabled() && cpu;
#else
    return false;
#endif
}

/// True when the AVX-512 kernels (where a kernel has one) will run: dispatch compiled in and enabled,
/// and the CPU has AVX-512F and FMA. Independent of use_avx2(); kernels without an AVX-512 version
/// keep using use_avx2().
inline bool use_avx512() {
#ifdef CFNET_SIMD_DISPATCH
    static const bool cpu = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    return simd_dispatch_enabled() && cpu;
#else
    return false;
#endif
}

}  // namespace cfnet::detail
