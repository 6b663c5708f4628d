// kernels/vector.hpp: hand-computed cases, and the fixed summation orders (so that results do not
// depend on the vector width the caller is compiled for).
#include <cfnet/kernels/vector.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

namespace {
// Lengths the compiler cannot see (a constant length lets GCC's loop analysis warn about the
// remainder loops of lengths it proves never happen).
std::size_t len(std::size_t n) {
    volatile std::size_t v = n;
    return v;
}
}  // namespace

TEST_CASE("dot, dot16 and bias_relu_dot16 on hand-computed cases", "[kernels]") {
    const std::vector<float> a{1, 2, 3}, b{4, -5, 6}, bias{-1, 0, -4};
    CHECK(cfnet::kernels::dot(a.data(), b.data(), len(3)) == 12.f);    // 4 - 10 + 18
    CHECK(cfnet::kernels::dot16(a.data(), b.data(), len(3)) == 12.f);
    // max(a + bias, 0) = (0, 2, 0): 2 * -5
    CHECK(cfnet::kernels::bias_relu_dot16(a.data(), bias.data(), b.data(), len(3)) == -10.f);
    CHECK(cfnet::kernels::dot(a.data(), b.data(), len(0)) == 0.f);
}

TEST_CASE("dot sums 32 lanes then pairwise, dot16 16 lanes then pairwise", "[kernels]") {
    // 1e8 in lane 0 and 1 in lanes 1..: in float 1e8 + 1 == 1e8, so the order decides the result
    std::vector<float> a(64, 1.f), ones(64, 1.f);
    a[0] = 1e8f;
    // dot: lane 0 holds 1e8 + 1 (element 32) = 1e8; the 31 other lanes 2 each, summed pairwise
    // first among themselves in part: the exact float result of the documented order
    float lanes[32];
    for (int l = 0; l < 32; ++l) lanes[l] = a[static_cast<std::size_t>(l)] + a[static_cast<std::size_t>(l) + 32];
    for (int w = 16; w > 0; w /= 2)
        for (int l = 0; l < w; ++l) lanes[l] += lanes[l + w];
    CHECK(cfnet::kernels::dot(a.data(), ones.data(), len(64)) == lanes[0]);
    float l16[16];
    for (int l = 0; l < 16; ++l) {
        l16[l] = 0;
        for (int j = l; j < 64; j += 16) l16[l] += a[static_cast<std::size_t>(j)];
    }
    for (int l = 0; l < 8; ++l) l16[l] += l16[l + 8];
    for (int l = 0; l < 4; ++l) l16[l] += l16[l + 4];
    CHECK(cfnet::kernels::dot16(a.data(), ones.data(), len(64)) == (l16[0] + l16[2]) + (l16[1] + l16[3]));
}

TEST_CASE("axpy, axpy2, axpy4, add_into, add_into2, add_relu, add_bias_relu", "[kernels]") {
    std::vector<float> y{1, 1, 1}, z{0, 0, 0};
    const std::vector<float> x{1, 2, 3}, w{-1, 0, 1};
    cfnet::kernels::axpy(2.f, x.data(), y.data(), 3);
    CHECK(y == std::vector<float>{3, 5, 7});
    cfnet::kernels::axpy2(1.f, x.data(), y.data(), 3.f, w.data(), z.data(), 3);
    CHECK(y == std::vector<float>{4, 7, 10});
    CHECK(z == std::vector<float>{-3, 0, 3});
    const float a4[4] = {1, 2, 3, 4};
    std::vector<float> y4{0, 0, 0};
    cfnet::kernels::axpy4(a4, x.data(), x.data(), w.data(), w.data(), y4.data(), 3);  // 3x + 7w
    CHECK(y4 == std::vector<float>{-4, 6, 16});
    std::vector<float> s{0, 0, 0}, t{1, 1, 1};
    cfnet::kernels::add_into(x.data(), s.data(), 3);
    CHECK(s == x);
    cfnet::kernels::add_into2(x.data(), s.data(), t.data(), 3);
    CHECK(s == std::vector<float>{2, 4, 6});
    CHECK(t == std::vector<float>{2, 3, 4});
    std::vector<float> h(3);
    cfnet::kernels::add_relu(x.data(), std::vector<float>{-2, -2, -2}.data(), h.data(), 3);
    CHECK(h == std::vector<float>{0, 0, 1});
    cfnet::kernels::add_bias_relu(x.data(), w.data(), std::vector<float>{0, -3, 1}.data(), h.data(), 3);
    CHECK(h == std::vector<float>{0, 0, 5});
}
