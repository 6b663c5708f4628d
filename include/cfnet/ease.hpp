#pragma once
/// @file ease.hpp
/// EASE (Steck 2019), the closed-form item-item model: cfnet::Ease<T> and cfnet::EaseOptions
/// (models/ease/). docs/ease.md is its user documentation.

#include <cfnet/models/ease/io.hpp>
#include <cfnet/models/ease/model.hpp>
#include <cfnet/models/ease/options.hpp>

namespace cfnet {

static_assert(is_recommender_v<Ease<float>> && supports_fold_in_v<Ease<float>>,
              "Ease implements the recommender interface (recommender.hpp), with fold-in");

}  // namespace cfnet
