#pragma once
/// @file mult_vae.hpp
/// MultVAE<T>, Mult-VAE and Mult-DAE (Liang et al. 2018) for implicit feedback: the stable include
/// path of models/mult_vae/ (options, network, model, io).

#include <cfnet/models/mult_vae/model.hpp>
