// Fuzz target: the model-file reader (serialize.hpp) and every model's load(): AutoencoderCF,
// NeuralCF, Ease, MultVAE, BiasBaseline, MostPopular, AutoencoderEnsemble. The input is a model
// file; the harness writes the real size into the header and the real CRC-32 at the end, so that
// mutations get past the checksum and reach the parsers behind it.
// Contract: read_model_info / read_model_file either succeed or throw IoError naming the file;
// each load() either succeeds or throws IoError (or the documented InvalidArgument) naming the
// file; a loaded model saves and loads again.

#include "fuzz_common.hpp"

#include <cfnet/autoencoder.hpp>
#include <cfnet/baselines.hpp>
#include <cfnet/ease.hpp>
#include <cfnet/ensemble.hpp>
#include <cfnet/mult_vae.hpp>
#include <cfnet/neural_cf.hpp>
#include <cfnet/serialize.hpp>

namespace {

template <class M>
void try_load(const std::string& path) {
    cfnet_fuzz::expect_contract(
        path,
        [&] {
            const M m = M::load(path);
            const std::string again = cfnet_fuzz::scratch() + "/again.cfnet";
            try {
                m.save(again);
                (void)M::load(again);
            } catch (const std::exception& e) {
                cfnet_fuzz::violation(std::string("a loaded model does not save and load again: ") + e.what());
            }
        },
        /*allow_invalid_argument=*/true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string bytes(reinterpret_cast<const char*>(data), size);
    if (bytes.size() >= cfnet::detail::model_header_size + 4) {  // repair the size field and the checksum
        auto* b = reinterpret_cast<unsigned char*>(bytes.data());
        cfnet::detail::store_le<std::uint64_t>(b + 16, bytes.size());
        cfnet::detail::store_le<std::uint32_t>(b + bytes.size() - 4, cfnet::detail::crc32(b, bytes.size() - 4));
    }
    const std::string path = cfnet_fuzz::write(cfnet_fuzz::scratch() + "/model.cfnet", bytes);
    cfnet_fuzz::expect_contract(path, [&] {
        const auto info = cfnet::read_model_info(path);
        cfnet_fuzz::require(info.file_size == bytes.size(), "read_model_info: wrong file size");
    });
    cfnet_fuzz::expect_contract(path, [&] { (void)cfnet::read_model_file<float>(path); }, true);
    try_load<cfnet::AutoencoderCF<float>>(path);
    try_load<cfnet::NeuralCF<float>>(path);
    try_load<cfnet::Ease<float>>(path);
    try_load<cfnet::MultVAE<float>>(path);
    try_load<cfnet::BiasBaseline<float>>(path);
    try_load<cfnet::MostPopular<float>>(path);
    try_load<cfnet::AutoencoderEnsemble<float>>(path);
    return 0;
}
