// nn/layer.hpp: the compile-time check of the layer contract accepts the layers and rejects types
// that miss a part of it or have the wrong signatures.
#include <cfnet/nn/activation.hpp>
#include <cfnet/nn/dense.hpp>
#include <cfnet/nn/dropout.hpp>
#include <cfnet/nn/layer.hpp>
#include <cfnet/nn/sequential.hpp>

#include <catch2/catch.hpp>

namespace {

using cfnet::Matrix;
using cfnet::nn::Mode;
using cfnet::nn::ParameterList;

struct Complete {
    using value_type = float;
    const Matrix<float>& forward(const Matrix<float>& x) { return x; }
    const Matrix<float>& backward(const Matrix<float>& dy) { return dy; }
    ParameterList<float> parameters() { return {}; }
    void set_mode(Mode) {}
};
struct NoBackward {
    using value_type = float;
    const Matrix<float>& forward(const Matrix<float>& x) { return x; }
    ParameterList<float> parameters() { return {}; }
    void set_mode(Mode) {}
};
struct NoMode {
    using value_type = float;
    const Matrix<float>& forward(const Matrix<float>& x) { return x; }
    const Matrix<float>& backward(const Matrix<float>& dy) { return dy; }
    ParameterList<float> parameters() { return {}; }
};
struct WrongParameters {  // parameters() of another scalar type
    using value_type = float;
    const Matrix<float>& forward(const Matrix<float>& x) { return x; }
    const Matrix<float>& backward(const Matrix<float>& dy) { return dy; }
    ParameterList<double> parameters() { return {}; }
    void set_mode(Mode) {}
};
struct NoValueType {
    const Matrix<float>& forward(const Matrix<float>& x) { return x; }
    const Matrix<float>& backward(const Matrix<float>& dy) { return dy; }
    ParameterList<float> parameters() { return {}; }
    void set_mode(Mode) {}
};

}  // namespace

TEST_CASE("is_layer_v accepts the layers and rejects what misses the contract", "[layer]") {
    STATIC_REQUIRE(cfnet::nn::is_layer_v<Complete>);
    STATIC_REQUIRE(cfnet::nn::is_layer_v<cfnet::nn::Dense<float>>);
    STATIC_REQUIRE(cfnet::nn::is_layer_v<cfnet::nn::Dense<double>>);
    STATIC_REQUIRE(cfnet::nn::is_layer_v<cfnet::nn::ReLU<float>>);
    STATIC_REQUIRE(cfnet::nn::is_layer_v<cfnet::nn::Dropout<float>>);
    STATIC_REQUIRE(cfnet::nn::is_layer_v<cfnet::nn::Sequential<float>>);
    STATIC_REQUIRE_FALSE(cfnet::nn::is_layer_v<NoBackward>);
    STATIC_REQUIRE_FALSE(cfnet::nn::is_layer_v<NoMode>);
    STATIC_REQUIRE_FALSE(cfnet::nn::is_layer_v<WrongParameters>);
    STATIC_REQUIRE_FALSE(cfnet::nn::is_layer_v<NoValueType>);
    STATIC_REQUIRE_FALSE(cfnet::nn::is_layer_v<int>);
}
