// The portable build: every header compiled with CFNET_NO_SIMD_DISPATCH (no run-time SIMD kernels,
// as on a non-x86 machine), and both models still train on the baseline kernels. Built with that
// definition by tests/CMakeLists.txt.
#include <cfnet/cfnet.hpp>

#include <catch2/catch.hpp>

#ifndef CFNET_NO_SIMD_DISPATCH
#error "no_simd.cpp must be compiled with CFNET_NO_SIMD_DISPATCH"
#endif

TEST_CASE("without SIMD dispatch: no SIMD kernel is chosen, and both models train", "[portable]") {
    CHECK_FALSE(cfnet::kernels::use_avx2());
    CHECK_FALSE(cfnet::kernels::use_avx512());
    CHECK_FALSE(cfnet::kernels::avx512_tiles<float>(16));

    cfnet::synthetic::SyntheticOptions so;
    so.n_users = 120;
    so.n_items = 80;
    so.n_ratings = 3000;
    so.min_ratings_per_user = 5;
    const auto data = cfnet::synthetic::generate<float>(so);

    cfnet::AutoencoderOptions ao = cfnet::AutoencoderOptions::notebook();
    ao.hidden = {32, 16, 32};  // widths the fused kernels would take with dispatch
    ao.epochs = 5;
    cfnet::AutoencoderCF<float> ae(ao);
    const auto ha = ae.fit(data);
    CHECK(ha[ha.size() - 1].loss < ha[0].loss);

    cfnet::NeuralCFOptions no;
    no.hidden = {32, 16};
    no.epochs = 5;
    no.batch_size = 128;
    cfnet::NeuralCF<float> ncf(no);
    const auto hn = ncf.fit(data);
    CHECK(hn[hn.size() - 1].loss < hn[0].loss);
    const auto scores = ncf.score_items(0);
    for (cfnet::index_type i = 0; i < data.n_items(); ++i) CHECK(scores[i] == Approx(ncf.predict(0, i)).epsilon(1e-5));
}
