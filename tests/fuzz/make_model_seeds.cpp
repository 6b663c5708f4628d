// Writes the model-file seeds of fuzz_model_file (tests/fuzz/corpus/model_file/seed_*): every
// model fitted for one or two epochs on a made-up 8 x 10 rating matrix, with small layers, so each
// file is a few KB. Build target cfnet_fuzz_make_model_seeds (not built by default); run it with
// the corpus directory as its argument. The ensemble's members are not seeds (the fuzz harness
// writes only the manifest), so only its manifest is kept.

#include <cfnet/autoencoder.hpp>
#include <cfnet/baselines.hpp>
#include <cfnet/ease.hpp>
#include <cfnet/ensemble.hpp>
#include <cfnet/mult_vae.hpp>
#include <cfnet/neural_cf.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    std::filesystem::create_directories(dir);
    std::vector<cfnet::Rating<float>> r;
    for (cfnet::id_type u = 1; u <= 8; ++u)
        for (cfnet::id_type i = 1; i <= 10; ++i)
            if ((u * 3 + i * 7) % 4 != 0) r.push_back({u, 100 + i, static_cast<float>(1 + (u * i) % 5), 0});
    const auto m = cfnet::RatingMatrix<float>::from_ratings(r);
    const auto out = [&](const char* name) { return dir + "/seed_" + name; };

    cfnet::AutoencoderOptions ao;
    ao.hidden = {4};
    ao.epochs = 1;
    cfnet::AutoencoderCF<float> ae(ao);
    ae.fit(m);
    ae.save(out("autoencoder"));
    ae.save(out("autoencoder_adam_state"), true);

    cfnet::NeuralCFOptions no;
    no.embedding_dim = 3;
    no.hidden = {4};
    no.epochs = 1;
    cfnet::NeuralCF<float> ncf(no);
    ncf.fit(m);
    ncf.save(out("neural_cf"));

    cfnet::Ease<float> ease(cfnet::EaseOptions{});
    ease.fit(m);
    ease.save(out("ease"));

    cfnet::MultVAEOptions vo;
    vo.hidden = {4};
    vo.latent = 2;
    vo.epochs = 1;
    cfnet::MultVAE<float> vae(vo);
    vae.fit(m);
    vae.save(out("mult_vae"));

    cfnet::BiasBaseline<float> bias;
    bias.fit(m);
    bias.save(out("bias_baseline"));
    cfnet::MostPopular<float> pop;
    pop.fit(m);
    pop.save(out("most_popular"));

    cfnet::AutoencoderEnsemble<float> ens({ao, ao}, {1.0, 2.0});
    ens.clamp(1.0, 5.0);
    ens.fit(m);
    const std::string manifest = dir + "/ensemble.tmp";
    ens.save(manifest);
    std::filesystem::rename(manifest, out("ensemble_manifest"));
    for (int k = 0; k < 2; ++k) std::filesystem::remove(cfnet::AutoencoderEnsemble<float>::member_path(manifest, k));
    std::printf("model seeds written to %s\n", dir.c_str());
    return 0;
}
