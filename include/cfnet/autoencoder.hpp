#pragma once
/// @file autoencoder.hpp
/// AutoencoderCF<T>, the notebook's rating autoencoder: the stable include path of
/// models/autoencoder/ (options, network, model, fit, io).

#include <cfnet/models/autoencoder/model.hpp>
