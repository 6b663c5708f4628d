#pragma once
/// @file neural_cf.hpp
/// NeuralCF<T> (neural collaborative filtering, He et al. 2017; the notebook's embedding + MLP
/// model by default). A forwarding header: the model lives in models/neural_cf/ — options.hpp
/// (NeuralCFOptions, enums, model-file field table), network.hpp (the composition of nn/ layers),
/// model.hpp (the NeuralCF class: fit, predict, score, recommend) and io.hpp (save/load).

#include <cfnet/models/neural_cf/options.hpp>
#include <cfnet/models/neural_cf/network.hpp>
#include <cfnet/models/neural_cf/model.hpp>
#include <cfnet/models/neural_cf/io.hpp>
