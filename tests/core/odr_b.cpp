// ODR check, part B (see odr_a.cpp).
#include <cfnet/cfnet.hpp>

std::size_t odr_b_users() {
    return cfnet::RatingMatrix<double>::from_ratings({{1, 1, 5.0, 0}, {2, 1, 4.0, 0}}).n_users();
}
