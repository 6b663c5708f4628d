#pragma once
/// @file models/mult_vae/io.hpp
/// MultVAE's model files (serialize.hpp): the options through their field table, the ids of the
/// training matrix, the weights by slot name. Part of models/mult_vae/model.hpp.

#include <cfnet/models/mult_vae/model.hpp>
#include <cfnet/options_io.hpp>
#include <cfnet/serialize.hpp>

#include <string>
#include <vector>

namespace cfnet {

template <class T>
void MultVAE<T>::save(const std::string& path) const {
    check_fitted("save");
    auto& self = const_cast<MultVAE&>(*this);  // refs are read-only here
    save_tensors(path, metadata(), parameter_refs(self.net_.parameters()));
}

template <class T>
MultVAE<T> MultVAE<T>::load(const std::string& path) {
    const ModelFile<T> file = read_model_file<T>(path);
    const MetadataReader meta(file.metadata, "MultVAE::load", path);
    if (meta.text("model") != "MultVAE")
        throw IoError("MultVAE::load: '" + path + "' holds a '" + meta.text("model") + "' model, not MultVAE");
    const MultVAEOptions o = read_options<MultVAEOptions>(meta);
    try {
        o.validate();
    } catch (const InvalidArgument& e) {
        throw IoError("MultVAE::load: '" + path + "': " + e.what());
    }
    MultVAE m(o);
    m.user_map_ = read_id_map(meta, "user_ids", ',', "user");
    m.item_map_ = read_id_map(meta, "item_ids", ',', "item");
    if (m.item_map_.size() == 0) throw IoError("MultVAE::load: '" + path + "' has no items");
    Rng rng(0);
    m.net_ = Net(m.item_map_.size(), o, rng);
    m.adam_.emplace(m.net_.parameters(),
                    optim::AdamOptions().lr(o.learning_rate).epsilon(o.adam_epsilon).weight_decay(2 * o.weight_decay));
    assign_tensors(file, parameter_refs(m.net_.parameters()), UnknownTensors::reject, path);
    return m;
}

template <class T>
Metadata MultVAE<T>::metadata() const {
    Metadata m;
    m["model"] = "MultVAE";
    m["cfnet_version"] = CFNET_VERSION_STRING;
    write_options(opt_, m);
    write_id_map(m, "user_ids", user_map_, ',');  // string ids keep their names
    write_id_map(m, "item_ids", item_map_, ',');
    return m;
}

}  // namespace cfnet
