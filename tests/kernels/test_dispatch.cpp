// kernels/dispatch.hpp: the run-time switch turns every dispatched version off and back on, the
// CPU queries agree with cpuid, and avx512_tiles applies to float rows of a multiple of 16 only.
#include <cfnet/kernels/dispatch.hpp>
#include <support/kernels.hpp>

#include <catch2/catch.hpp>

#include <cstddef>

using cfnet::kernels::avx512_tiles;
using cfnet::kernels::simd_dispatch_enabled;
using cfnet::kernels::use_avx2;
using cfnet::kernels::use_avx512;

// What the CPU has, asked directly (dispatch.hpp caches the same questions).
#ifdef CFNET_SIMD_DISPATCH
const bool cpu_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
const bool cpu_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#else
const bool cpu_avx2 = false, cpu_avx512 = false;
#endif

TEST_CASE("simd_dispatch_enabled: on by default, one switch for every query", "[kernels][dispatch]") {
    REQUIRE(simd_dispatch_enabled());
    CHECK(&simd_dispatch_enabled() == &simd_dispatch_enabled());  // one flag for the program
    // on: the queries report what the CPU has
    CHECK(use_avx2() == cpu_avx2);
    CHECK(use_avx512() == cpu_avx512);
    CHECK(avx512_tiles<float>(64) == cpu_avx512);
    {
        cfnet_test::Dispatch off(false);
        CHECK_FALSE(simd_dispatch_enabled());
        CHECK_FALSE(use_avx2());
        CHECK_FALSE(use_avx512());
        CHECK_FALSE(avx512_tiles<float>(16));
        CHECK_FALSE(avx512_tiles<float>(64));
    }
    // and back on
    CHECK(simd_dispatch_enabled());
    CHECK(use_avx2() == cpu_avx2);
    CHECK(use_avx512() == cpu_avx512);
    CHECK(avx512_tiles<float>(16) == cpu_avx512);
    if (!cpu_avx2 && !cpu_avx512) WARN("no SIMD dispatch on this CPU or build: only the off state is observable");
}

TEST_CASE("avx512_tiles: float, a multiple of 16, AVX-512 in use", "[kernels][dispatch]") {
    for (const std::size_t w : {std::size_t(16), std::size_t(32), std::size_t(512)}) {
        CHECK_FALSE(avx512_tiles<double>(w));
        CHECK(avx512_tiles<float>(w) == use_avx512());
    }
    for (const std::size_t w : {std::size_t(1), std::size_t(8), std::size_t(15), std::size_t(17), std::size_t(24),
                                std::size_t(500)}) {
        CHECK_FALSE(avx512_tiles<float>(w));
        CHECK_FALSE(avx512_tiles<double>(w));
    }
    cfnet_test::Dispatch off(false);
    CHECK_FALSE(avx512_tiles<float>(16));
}

#ifndef CFNET_SIMD_DISPATCH
TEST_CASE("without CFNET_SIMD_DISPATCH the switch has no effect", "[kernels][dispatch]") {
    cfnet_test::Dispatch on(true);
    CHECK_FALSE(use_avx2());
    CHECK_FALSE(use_avx512());
}
#endif
