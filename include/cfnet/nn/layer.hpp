#pragma once
/// @file nn/layer.hpp
/// The layer contract (see docs/concepts.md), its compile-time check, and the train/eval mode.
///
/// A type L with `value_type` T is a layer when it has
///   const Matrix<T>& forward(const Matrix<T>& x);   // batch x in -> batch x out; caches what backward needs
///   const Matrix<T>& backward(const Matrix<T>& dy); // dL/dy -> dL/dx; ADDS dL/dθ into each Parameter::grad
///   ParameterList<T> parameters();                  // empty for layers without parameters
///   void set_mode(Mode);                            // train (default) or eval
/// The references returned by forward/backward point into the layer's own buffers and stay valid
/// until the next call of the same function: steady-state training allocates nothing.
/// @pre backward(dy) follows forward(x) of the same batch, and dy has forward's output shape.

#include <cfnet/nn/parameter.hpp>
#include <cfnet/tensor.hpp>

#include <type_traits>
#include <utility>

namespace cfnet::nn {

enum class Mode { train, eval };

namespace detail {

template <class L, class = void>
struct is_layer_impl : std::false_type {};

template <class L>
struct is_layer_impl<
    L, std::void_t<typename L::value_type,
                   decltype(std::declval<L&>().forward(std::declval<const Matrix<typename L::value_type>&>())),
                   decltype(std::declval<L&>().backward(std::declval<const Matrix<typename L::value_type>&>())),
                   decltype(std::declval<L&>().parameters()), decltype(std::declval<L&>().set_mode(Mode::train))>>
    : std::bool_constant<
          std::is_convertible_v<decltype(std::declval<L&>().forward(
                                    std::declval<const Matrix<typename L::value_type>&>())),
                                const Matrix<typename L::value_type>&> &&
          std::is_convertible_v<decltype(std::declval<L&>().backward(
                                    std::declval<const Matrix<typename L::value_type>&>())),
                                const Matrix<typename L::value_type>&> &&
          std::is_same_v<decltype(std::declval<L&>().parameters()), ParameterList<typename L::value_type>>> {};

}  // namespace detail

/// True when L satisfies the layer contract above.
template <class L>
inline constexpr bool is_layer_v = detail::is_layer_impl<L>::value;

}  // namespace cfnet::nn
