#pragma once
/// @file cfnet.hpp
/// Umbrella header for users: includes every public cfnet header. The library itself never
/// includes it; include the one-concept headers you need to keep compile times down.

#include <cfnet/config.hpp>
#include <cfnet/error.hpp>
#include <cfnet/tensor.hpp>
#include <cfnet/detail/rng.hpp>
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/serialize.hpp>
#include <cfnet/train.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/data/synthetic.hpp>
#include <cfnet/data/io.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/detail/topk.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/baselines.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/optim/optimizer.hpp>
#include <cfnet/optim/sgd.hpp>
#include <cfnet/optim/adam.hpp>
