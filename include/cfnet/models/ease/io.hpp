#pragma once
/// @file models/ease/io.hpp
/// Ease's model files (serialize.hpp): metadata "model" = "Ease", the options through their field
/// table (lambdas excepted: they only steer a fit), the selected lambda, the number of training
/// users, the item ids and the kept items; one tensor "B" (kept x kept). Loading reads the whole
/// file, then moves B out of it: peak memory about twice the matrix.

#include <cfnet/models/ease/model.hpp>
#include <cfnet/options_io.hpp>
#include <cfnet/serialize.hpp>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace cfnet {

template <class T>
void Ease<T>::save(const std::string& path) const {
    check_fitted("save");
    Metadata meta;
    meta["model"] = "Ease";
    meta["cfnet_version"] = CFNET_VERSION_STRING;
    write_options(opt_, meta);
    meta["selected_lambda"] = metadata_number(lambda_);
    meta["n_users"] = std::to_string(n_users_);
    write_id_map(meta, "item_ids", item_map_, ',');  // string ids keep their names
    meta["kept_items"] = all_kept() ? std::string("all") : metadata_list(kept_, ',');
    save_tensors<T>(path, meta, {{"B", const_cast<Matrix<T>*>(&b_)}});
}

template <class T>
Ease<T> Ease<T>::load(const std::string& path) {
    ModelFile<T> file = read_model_file<T>(path);
    const MetadataReader meta(file.metadata, "Ease::load", path);
    if (meta.text("model") != "Ease")
        throw IoError("Ease::load: '" + path + "' holds a '" + meta.text("model") + "' model, not Ease");
    EaseOptions o = read_options<EaseOptions>(meta);
    try {
        o.validate();
    } catch (const InvalidArgument& e) {
        throw IoError("Ease::load: '" + path + "': " + e.what());
    }
    Ease m(o);
    m.lambda_ = meta.number("selected_lambda");
    if (!(std::isfinite(m.lambda_) && m.lambda_ > 0)) meta.fail("selected_lambda", "is not a finite number > 0");
    m.n_users_ = meta.count("n_users");
    m.item_map_ = read_id_map(meta, "item_ids", ',', "item");
    const size_type n = m.item_map_.size();
    if (meta.text("kept_items") == "all") {
        m.kept_.resize(n);
        for (size_type i = 0; i < n; ++i) m.kept_[i] = static_cast<index_type>(i);
    } else {
        m.kept_ = meta.integers<index_type>("kept_items", ',');
        for (size_type s = 0; s < m.kept_.size(); ++s)
            if (m.kept_[s] >= n || (s > 0 && m.kept_[s - 1] >= m.kept_[s]))
                throw IoError("Ease::load: '" + path + "': kept_items is not an increasing list of item indices below " +
                              std::to_string(n));
    }
    m.slot_.assign(n, npos);
    for (size_type s = 0; s < m.kept_.size(); ++s) m.slot_[m.kept_[s]] = static_cast<index_type>(s);
    const size_type k = m.kept_.size();
    if (file.tensors.size() != 1 || file.tensors[0].first != "B" || file.tensors[0].second.shape(0) != k ||
        file.tensors[0].second.shape(1) != k)
        throw IoError("Ease::load: '" + path + "': expected exactly one tensor 'B' of " + std::to_string(k) + " x " +
                      std::to_string(k));
    detail::check_finite(file.tensors[0].second, "B", path, "Ease::load");
    m.b_ = std::move(file.tensors[0].second);
    m.fitted_ = true;
    return m;
}

}  // namespace cfnet
