// Uses the installed headers and the linked BLAS: fails to build or exits non-zero if either is wrong.
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/tensor.hpp>

#include <iostream>

int main() {
    using cfnet::Rating;
    const auto m = cfnet::RatingMatrix<float>::from_ratings({{1, 10, 4.f, 0}, {1, 20, 3.f, 0}, {2, 20, 5.f, 0}});
    cfnet::Matrix<float> a = {{1.f, 2.f}, {3.f, 4.f}}, c = cfnet::Matrix<float>::from_shape({2, 2});
    cfnet::gemm(cfnet::Trans::no, cfnet::Trans::no, 2, 2, 2, 1.f, a.data(), 2, a.data(), 2, 0.f, c.data(), 2);
    const bool ok = m.n_users() == 2 && m.n_items() == 2 && m.nnz() == 3 && c(0, 0) == 7.f && c(1, 1) == 22.f;
    std::cout << (ok ? "cfnet consumer: ok" : "cfnet consumer: WRONG RESULT") << " (cfnet " << CFNET_VERSION_STRING << ")\n";
    return ok ? 0 : 1;
}
