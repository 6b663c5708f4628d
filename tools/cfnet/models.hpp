#pragma once
/// @file tools/cfnet/models.hpp
/// The one place where the `cfnet` commands turn a model file's kind into a model type: every
/// command that reads a model is a function template over the model type, written against the
/// recommender interface (include/cfnet/recommender.hpp), and called through dispatch_model().
/// Not part of the library.

#include "common.hpp"

#include <cfnet/autoencoder.hpp>
#include <cfnet/ease.hpp>
#include <cfnet/mult_vae.hpp>
#include <cfnet/neural_cf.hpp>
#include <cfnet/recommender.hpp>

#include <type_traits>
#include <utility>

namespace cfnet_cli {

/// A model type, passed to the command templates without an object (they load it themselves).
template <class M>
struct ModelType {
    using type = M;
};

/// The name a model type prints (its metadata "model" value).
template <class M>
struct ModelName;
template <>
struct ModelName<cfnet::AutoencoderCF<float>> {
    static constexpr const char* value = "AutoencoderCF";
};
template <>
struct ModelName<cfnet::NeuralCF<float>> {
    static constexpr const char* value = "NeuralCF";
};

template <>
struct ModelName<cfnet::Ease<float>> {
    static constexpr const char* value = "Ease";
};
template <>
struct ModelName<cfnet::MultVAE<float>> {
    static constexpr const char* value = "MultVAE";
};

/// The single dispatch point: f(ModelType<M>{}) with the model type of `kind`.
template <class F>
decltype(auto) dispatch_model(ModelKind kind, F&& f) {
    switch (kind) {
        case ModelKind::neural_cf:
            return std::forward<F>(f)(ModelType<cfnet::NeuralCF<float>>{});
        case ModelKind::ease:
            return std::forward<F>(f)(ModelType<cfnet::Ease<float>>{});
        case ModelKind::mult_vae:
            return std::forward<F>(f)(ModelType<cfnet::MultVAE<float>>{});
        case ModelKind::autoencoder:
        default:
            return std::forward<F>(f)(ModelType<cfnet::AutoencoderCF<float>>{});
    }
}

namespace detail {
template <class M, class = void>
struct has_interactions : std::false_type {};
template <class M>
struct has_interactions<M, std::void_t<decltype(std::declval<const M&>().interactions())>> : std::true_type {};
}  // namespace detail

namespace detail {
template <class M, class = void>
struct has_user_map : std::false_type {};
template <class M>
struct has_user_map<M, std::void_t<decltype(std::declval<const M&>().user_map())>> : std::true_type {};
}  // namespace detail

/// The model's own user map, or `fallback` (the training data's) for a model that keeps none: an
/// item-item model such as Ease scores any user from his input row and knows no user ids.
template <class M>
const cfnet::IdMap& user_map_or(const M& model, const cfnet::IdMap& fallback) {
    if constexpr (detail::has_user_map<M>::value)
        return model.user_map();
    else
        return fallback;
}

/// True when a loaded model carries its own training interactions (interactions()): the
/// recommender interface's `input` then needs no data split (an embedding model such as NeuralCF).
/// Otherwise the training matrix is rebuilt from --data and --split (an input-driven model).
template <class M>
inline constexpr bool carries_interactions_v = detail::has_interactions<M>::value;

}  // namespace cfnet_cli
