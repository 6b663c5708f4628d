#pragma once
/// @file nn/sequential.hpp
/// Sequential<T>: a chain of layers of any types satisfying the layer contract (nn/layer.hpp),
/// built-in or user-written, run in order. Itself a layer, so chains nest.
///
///   cfnet::Rng rng(1);
///   cfnet::nn::Sequential<> net;
///   net.add(cfnet::nn::Dense<>(1682, 512, rng));
///   net.add(cfnet::nn::Sigmoid<>());
///   auto& out = net.emplace<cfnet::nn::Dense<>>(512, 1682, rng);   // returns the stored layer
///   const auto& y = net.forward(x);
///   net.backward(dy);
///
/// Layers are stored by value behind a small virtual interface (type erasure) rather than in a
/// std::variant over the built-in types: a user's own layer type works without touching cfnet, and
/// the cost is one virtual call per layer per pass, nothing next to the layers' own work.
/// Sequential is copyable (it copies every layer; layer types must be copy-constructible) and movable.

#include <cfnet/error.hpp>
#include <cfnet/nn/layer.hpp>
#include <cfnet/nn/parameter.hpp>
#include <cfnet/tensor.hpp>

#include <cstddef>
#include <memory>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace cfnet::nn {

template <class T = float>
class Sequential {
public:
    using value_type = T;
    using size_type = std::size_t;

    Sequential() = default;
    Sequential(const Sequential& o) { copy_from(o); }
    Sequential& operator=(const Sequential& o) {
        if (this != &o) {
            layers_.clear();
            copy_from(o);
        }
        return *this;
    }
    Sequential(Sequential&&) noexcept = default;
    Sequential& operator=(Sequential&&) noexcept = default;

    /// Appends a layer (moved in) and returns a reference to the stored copy (valid while the layer
    /// stays in this Sequential).
    template <class L>
    std::decay_t<L>& add(L&& layer) {
        using Layer = std::decay_t<L>;
        check_layer_type<Layer>();
        auto holder = std::make_unique<Holder<Layer>>(std::forward<L>(layer));
        Layer& ref = holder->layer;
        layers_.push_back(std::move(holder));
        return ref;
    }

    /// Constructs a layer of type L in place from args and returns it.
    template <class L, class... Args>
    L& emplace(Args&&... args) {
        check_layer_type<L>();
        auto holder = std::make_unique<Holder<L>>(std::forward<Args>(args)...);
        L& ref = holder->layer;
        layers_.push_back(std::move(holder));
        return ref;
    }

    /// Runs every layer in order; the result is the last layer's buffer.
    /// @throws InvalidArgument if there are no layers, or whatever a layer throws.
    const Matrix<T>& forward(const Matrix<T>& x) {
        check_arg(!layers_.empty(), "Sequential::forward: no layers");
        const Matrix<T>* h = &x;
        for (auto& l : layers_) h = &l->forward(*h);
        return *h;
    }

    /// Runs every layer's backward in reverse order; returns dL/dx of the first layer.
    /// @pre follows forward. @throws InvalidArgument if there are no layers, or whatever a layer throws.
    const Matrix<T>& backward(const Matrix<T>& dy) {
        check_arg(!layers_.empty(), "Sequential::backward: no layers");
        const Matrix<T>* g = &dy;
        for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) g = &(*it)->backward(*g);
        return *g;
    }

    /// Every layer's parameters, layer by layer in order.
    ParameterList<T> parameters() {
        ParameterList<T> all;
        for (auto& l : layers_) {
            auto p = l->parameters();
            all.insert(all.end(), p.begin(), p.end());
        }
        return all;
    }

    /// Sets the mode of every layer.
    void set_mode(Mode m) {
        for (auto& l : layers_) l->set_mode(m);
    }

    size_type size() const noexcept { return layers_.size(); }
    bool empty() const noexcept { return layers_.empty(); }

    /// Layer i as type L. @throws InvalidArgument if i is out of range or layer i is not an L.
    template <class L>
    L& layer(size_type i) {
        check_arg(i < layers_.size(), "Sequential::layer: index ", i, " out of range (size ", layers_.size(), ")");
        auto* h = dynamic_cast<Holder<L>*>(layers_[i].get());
        check_arg(h != nullptr, "Sequential::layer: layer ", i, " is not a ", typeid(L).name());
        return h->layer;
    }

private:
    struct Base {
        virtual ~Base() = default;
        virtual const Matrix<T>& forward(const Matrix<T>& x) = 0;
        virtual const Matrix<T>& backward(const Matrix<T>& dy) = 0;
        virtual ParameterList<T> parameters() = 0;
        virtual void set_mode(Mode m) = 0;
        virtual std::unique_ptr<Base> clone() const = 0;
    };

    template <class L>
    struct Holder final : Base {
        template <class... Args>
        explicit Holder(Args&&... args) : layer(std::forward<Args>(args)...) {}
        const Matrix<T>& forward(const Matrix<T>& x) override { return layer.forward(x); }
        const Matrix<T>& backward(const Matrix<T>& dy) override { return layer.backward(dy); }
        ParameterList<T> parameters() override { return layer.parameters(); }
        void set_mode(Mode m) override { layer.set_mode(m); }
        std::unique_ptr<Base> clone() const override { return std::make_unique<Holder>(layer); }
        L layer;
    };

    template <class L>
    static constexpr void check_layer_type() {
        static_assert(is_layer_v<L>, "Sequential: the type does not satisfy the layer contract (nn/layer.hpp)");
        static_assert(std::is_same_v<typename L::value_type, T>, "Sequential: the layer's value_type differs");
        static_assert(std::is_copy_constructible_v<L>, "Sequential: layers must be copy-constructible");
    }

    void copy_from(const Sequential& o) {
        layers_.reserve(o.layers_.size());
        for (const auto& l : o.layers_) layers_.push_back(l->clone());
    }

    std::vector<std::unique_ptr<Base>> layers_;
};

static_assert(is_layer_v<Sequential<float>>);

}  // namespace cfnet::nn
