#pragma once
/// @file cfnet.hpp
/// Umbrella header for users: includes every public cfnet header. The library itself never
/// includes it; include the one-concept headers you need to keep compile times down.

// level 0
#include <cfnet/config.hpp>
#include <cfnet/error.hpp>
#include <cfnet/tensor.hpp>
#include <cfnet/detail/rng.hpp>
// kernels (every SIMD intrinsic of the library; includes only config.hpp / tensor.hpp)
#include <cfnet/kernels/dispatch.hpp>
#include <cfnet/kernels/vector.hpp>
#include <cfnet/kernels/adam.hpp>
#include <cfnet/kernels/relu.hpp>
#include <cfnet/kernels/sparse.hpp>
#include <cfnet/kernels/dense.hpp>
#include <cfnet/kernels/gram.hpp>
#include <cfnet/kernels/tanh.hpp>
// level 1: data
#include <cfnet/data/rating_matrix.hpp>
#include <cfnet/data/implicit.hpp>
#include <cfnet/data/io.hpp>
#include <cfnet/data/interactions.hpp>
#include <cfnet/data/streaming.hpp>
#include <cfnet/data/movielens.hpp>
#include <cfnet/data/split.hpp>
#include <cfnet/data/synthetic.hpp>
#include <cfnet/data/sampling.hpp>
// level 1: nn
#include <cfnet/nn/parameter.hpp>
#include <cfnet/nn/layer.hpp>
#include <cfnet/nn/init.hpp>
#include <cfnet/nn/sparse.hpp>
#include <cfnet/nn/dense.hpp>
#include <cfnet/nn/sparse_input_dense.hpp>
#include <cfnet/nn/sparse_output_dense.hpp>
#include <cfnet/nn/update.hpp>
#include <cfnet/nn/activation.hpp>
#include <cfnet/nn/dropout.hpp>
#include <cfnet/nn/embedding.hpp>
#include <cfnet/nn/concat.hpp>
#include <cfnet/nn/sequential.hpp>
#include <cfnet/nn/loss.hpp>
#include <cfnet/nn/gaussian_latent.hpp>
#include <cfnet/nn/sparse_linear.hpp>
// level 1: metrics
#include <cfnet/recommender.hpp>
#include <cfnet/metrics.hpp>
#include <cfnet/protocols.hpp>
// level 2
#include <cfnet/optim/optimizer.hpp>
#include <cfnet/optim/sgd.hpp>
#include <cfnet/optim/adam.hpp>
#include <cfnet/optim/lbfgs.hpp>
#include <cfnet/metadata.hpp>
#include <cfnet/serialize.hpp>
#include <cfnet/options_io.hpp>
// level 3
#include <cfnet/train.hpp>
#include <cfnet/tune.hpp>
// level 4
#include <cfnet/baselines.hpp>
#include <cfnet/autoencoder.hpp>
#include <cfnet/ensemble.hpp>
#include <cfnet/neural_cf.hpp>
#include <cfnet/ease.hpp>
#include <cfnet/mult_vae.hpp>
// distributed (docs/distributed.md; the MPI backend, distributed/mpi.hpp, needs cfnet::mpi and is not here)
#include <cfnet/distributed/communicator.hpp>
#include <cfnet/distributed/shard.hpp>
#include <cfnet/distributed/autoencoder.hpp>
#include <cfnet/distributed/autoencoder_items.hpp>
#include <cfnet/distributed/neural_cf.hpp>
#include <cfnet/distributed/mult_vae.hpp>
#include <cfnet/distributed/ease.hpp>
#include <cfnet/distributed/evaluation.hpp>
// testing utilities
#include <cfnet/testing/gradcheck.hpp>
