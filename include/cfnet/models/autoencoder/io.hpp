#pragma once
/// @file models/autoencoder/io.hpp
/// AutoencoderCF's model files (serialize.hpp): the options through their field table, the ids of
/// the training matrix, the weights by slot name, optionally Adam's state. Part of
/// models/autoencoder/model.hpp.

#include <cfnet/models/autoencoder/model.hpp>
#include <cfnet/options_io.hpp>
#include <cfnet/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace cfnet {

template <class T>
void AutoencoderCF<T>::save(const std::string& path, bool with_optimizer) const {
    check_fitted("save");
    auto& self = const_cast<AutoencoderCF&>(*this);  // refs are read-only here
    Metadata meta = metadata();
    check_arg(!with_optimizer || adam_.has_value(), "AutoencoderCF::save: with_optimizer: the ",
              to_string(opt_.solver), " solver keeps no optimizer state between fits");
    meta["with_optimizer"] = with_optimizer ? "1" : "0";
    meta["adam_steps"] = std::to_string(adam_ ? adam_->steps() : 0);
    std::vector<nn::TensorRef<T>> refs = parameter_refs(self.net_.parameters());
    Matrix<T> seen = Matrix<T>::from_shape({1, unit_seen_.size()});
    for (size_type i = 0; i < unit_seen_.size(); ++i) seen(0, i) = unit_seen_[i] ? T(1) : T(0);
    refs.push_back({"unit_seen", &seen});
    Matrix<T> unit_bias = Matrix<T>::from_shape({1, base_.unit_bias.size()});
    std::copy(base_.unit_bias.begin(), base_.unit_bias.end(), unit_bias.begin());
    if (base_.active()) refs.push_back({"residual_unit_bias", &unit_bias});
    if (with_optimizer)
        for (auto& r : self.adam_->state()) refs.push_back(r);
    save_tensors(path, meta, refs);
}

template <class T>
AutoencoderCF<T> AutoencoderCF<T>::load(const std::string& path) {
    const ModelFile<T> file = read_model_file<T>(path);
    const MetadataReader meta(file.metadata, "AutoencoderCF::load", path);
    if (meta.text("model") != "AutoencoderCF")
        throw IoError("AutoencoderCF::load: '" + path + "' holds a '" + meta.text("model") +
                      "' model, not AutoencoderCF");
    const AutoencoderOptions o = read_options<AutoencoderOptions>(meta);
    try {
        o.validate();
    } catch (const InvalidArgument& e) {
        throw IoError("AutoencoderCF::load: '" + path + "': " + e.what());
    }
    AutoencoderCF m(o);
    m.user_map_ = read_id_map(meta, "user_ids", ',', "user");
    m.item_map_ = read_id_map(meta, "item_ids", ',', "item");
    const size_type n_units = m.unit_ids().size();
    check_arg(n_units > 0, "AutoencoderCF::load: '", path, "' has no units");
    Rng rng(0);
    m.net_ = Net(n_units, o.hidden, o.hidden_activation, o.output_activation, rng);
    m.train_mean_ = meta.number("train_mean");
    if (!std::isfinite(m.train_mean_)) meta.fail("train_mean", "is not a finite number");
    m.make_optimizer();
    const bool with_opt = meta.flag("with_optimizer");
    check_arg(!with_opt || m.adam_.has_value(), "AutoencoderCF::load: '", path,
              "' has optimizer state but its solver is not adam");
    std::vector<nn::TensorRef<T>> refs = parameter_refs(m.net_.parameters());
    Matrix<T> seen = xt::zeros<T>({size_type(1), n_units});
    refs.push_back({"unit_seen", &seen});
    Matrix<T> unit_bias = xt::zeros<T>({size_type(1), n_units});
    if (o.residual) {
        refs.push_back({"residual_unit_bias", &unit_bias});
        m.base_.mu = meta.number("residual_mean");
        m.base_.row_lambda = meta.number("residual_row_lambda");
        if (!std::isfinite(m.base_.mu)) meta.fail("residual_mean", "is not a finite number");
        if (!std::isfinite(m.base_.row_lambda) || m.base_.row_lambda < 0)
            meta.fail("residual_row_lambda", "is not a finite number >= 0");
    }
    if (with_opt)
        for (auto& r : m.adam_->state()) refs.push_back(r);
    assign_tensors(file, refs, UnknownTensors::reject, path);
    m.unit_seen_.assign(n_units, 0);
    for (size_type i = 0; i < m.unit_seen_.size(); ++i) m.unit_seen_[i] = seen(0, i) != T(0);
    if (o.residual) m.base_.unit_bias.assign(unit_bias.begin(), unit_bias.end());
    if (with_opt) m.adam_->set_steps(meta.count("adam_steps"));
    return m;
}

template <class T>
AutoencoderCF<T> AutoencoderCF<T>::load(const std::string& path, const RatingMatrix<T>& data) {
    AutoencoderCF m = load(path);
    if (m.opt_.orientation == Orientation::user_based)
        m.check_space(data, "load");
    else
        m.check_space(data.transposed(), "load");
    return m;
}

template <class T>
Metadata AutoencoderCF<T>::metadata() const {
    Metadata m;
    m["model"] = "AutoencoderCF";
    m["cfnet_version"] = CFNET_VERSION_STRING;
    write_options(opt_, m);
    m["train_mean"] = metadata_number(train_mean_);
    if (base_.active()) {
        m["residual_mean"] = metadata_number(base_.mu);
        m["residual_row_lambda"] = metadata_number(base_.row_lambda);
    }
    write_id_map(m, "user_ids", user_map_, ',');
    write_id_map(m, "item_ids", item_map_, ',');
    return m;
}

}  // namespace cfnet
