#pragma once
/// @file models/neural_cf/io.hpp
/// NeuralCF's model files (serialize.hpp format): save() writes the options (their field table,
/// options.hpp), the id maps, the parameters under NeuralCFNetwork::named_tensors' names, the seen
/// items (integer arrays "seen.counts" and "seen.items"; format version 1 files stored them as
/// float tensors, still read) and the unseen-user fallback; load() reads and range-checks them. A loaded model predicts
/// bit-identically. Included by model.hpp (the member functions are declared there).

#include <cfnet/models/neural_cf/model.hpp>

#include <cmath>
#include <cstddef>
#include <memory>
#include <string>

namespace cfnet {

template <class T>
void NeuralCF<T>::save(const std::string& path) const {
    check_arg(initialized_ && users_ && items_, "NeuralCF::save: the model is not fitted");
    auto& self = const_cast<NeuralCF&>(*this);  // named_tensors hands out non-const refs; nothing is written
    Metadata meta;
    write_options(opt_, meta);
    meta["model"] = "NeuralCF";
    meta["n_users"] = std::to_string(nu_);
    meta["n_items"] = std::to_string(ni_);
    write_id_map(meta, "user_ids", *users_, ' ');
    write_id_map(meta, "item_ids", *items_, ' ');
    meta["fallback"] = fallback_ ? "1" : "0";
    meta["fallback.mu"] = metadata_number(mu_);
    auto refs = self.named_tensors();
    IntegerArray counts(nu_), seen(seen_items_.begin(), seen_items_.end());
    for (size_type u = 0; u < nu_; ++u) counts[u] = seen_ptr_[u + 1] - seen_ptr_[u];
    Matrix<T> fb_u, fb_i;
    if (fallback_) {
        fb_u = Matrix<T>::from_shape({1, nu_});
        fb_i = Matrix<T>::from_shape({1, ni_});
        std::copy(fb_user_.begin(), fb_user_.end(), fb_u.begin());
        std::copy(fb_item_.begin(), fb_item_.end(), fb_i.begin());
        refs.push_back({"fallback.user", &fb_u});
        refs.push_back({"fallback.item", &fb_i});
    }
    save_tensors(path, meta, refs, {{"seen.counts", &counts}, {"seen.items", &seen}});
}


template <class T>
NeuralCFOptions NeuralCF<T>::options_from_metadata(const MetadataReader& m, const std::string& path) {
    NeuralCFOptions o = read_options<NeuralCFOptions>(m);
    // early_stopping is not stored, and refit is meaningless (and invalid) without it: a model
    // trained with refit holds the refit's weights, so it loads as a model without refit.
    if (!o.early_stopping) o.refit = false;
    try {
        o.validate();
    } catch (const InvalidArgument& e) {
        throw IoError("NeuralCF::load: '" + path + "': " + e.what());
    }
    return o;
}


template <class T>
void NeuralCF<T>::read_seen(const Matrix<T>& counts, const Matrix<T>& seen, const std::string& path) {
    const size_type nu = nu_, ni = ni_;
    // Index data stored as T: every value is checked to be a whole number in range before it is
    // converted (a crafted file with a valid checksum must not reach an out-of-range cast).
    const auto bad_index = [&](const char* tensor, size_type k, T v, const char* what) {
        return IoError(detail::concat("NeuralCF::load: '", path, "': tensor '", tensor, "' entry ", k, " = ", v,
                                      " is not ", what));
    };
    seen_ptr_.assign(nu + 1, 0);
    for (size_type u = 0; u < nu; ++u) {
        const T v = counts(0, u);
        if (!(v >= 0 && v <= static_cast<T>(ni) && v == std::floor(v)))
            throw bad_index("seen.counts", u, v, detail::concat("a count of items in [0, ", ni, "]").c_str());
        seen_ptr_[u + 1] = seen_ptr_[u] + static_cast<size_type>(v);
    }
    if (seen_ptr_[nu] != seen.size())
        throw IoError(detail::concat("NeuralCF::load: '", path, "': tensor 'seen.counts' adds up to ", seen_ptr_[nu],
                                     " but tensor 'seen.items' holds ", seen.size(), " values"));
    seen_items_.resize(seen.size());
    for (size_type u = 0; u < nu; ++u)
        for (size_type k = seen_ptr_[u]; k < seen_ptr_[u + 1]; ++k) {
            const T v = seen(0, k);
            if (!(v >= 0 && v < static_cast<T>(ni) && v == std::floor(v)))
                throw bad_index("seen.items", k, v, detail::concat("an item index in [0, ", ni, ")").c_str());
            const auto i = static_cast<index_type>(v);
            if (k > seen_ptr_[u] && !(seen_items_[k - 1] < i))
                throw bad_index("seen.items", k, v,
                                detail::concat("above the previous item of user index ", u,
                                               " (each user's items are stored in increasing order)")
                                    .c_str());
            seen_items_[k] = i;
        }
}

template <class T>
void NeuralCF<T>::read_seen_integers(const ModelFile<T>& file, const std::string& path) {
    const size_type nu = nu_, ni = ni_;
    const auto counts = integer_array<size_type>(file, "seen.counts", ni, nu, path, "NeuralCF::load");
    seen_ptr_.assign(nu + 1, 0);
    for (size_type u = 0; u < nu; ++u) seen_ptr_[u + 1] = seen_ptr_[u] + counts[u];  // <= nu * ni: no overflow
    const IntegerArray* stored = file.find_integers("seen.items");
    if (stored && stored->size() != seen_ptr_[nu])
        throw IoError(detail::concat("NeuralCF::load: '", path, "': integer array 'seen.counts' adds up to ",
                                     seen_ptr_[nu], " but integer array 'seen.items' holds ", stored->size(), " values"));
    if (ni > 0) {
        seen_items_ = integer_array<index_type>(file, "seen.items", ni - 1, seen_ptr_[nu], path, "NeuralCF::load");
    } else {
        seen_items_ = integer_array<index_type>(file, "seen.items", 0, 0, path, "NeuralCF::load");
    }
    for (size_type u = 0; u < nu; ++u)
        for (size_type k = seen_ptr_[u] + 1; k < seen_ptr_[u + 1]; ++k)
            if (!(seen_items_[k - 1] < seen_items_[k]))
                throw IoError(detail::concat("NeuralCF::load: '", path, "': integer array 'seen.items' entry ", k, " = ",
                                             seen_items_[k], " is not above the previous item of user index ", u,
                                             " (each user's items are stored in increasing order)"));
}

template <class T>
NeuralCF<T> NeuralCF<T>::load(const std::string& path) {
    ModelFile<T> file = read_model_file<T>(path);
    const MetadataReader meta(file.metadata, "NeuralCF::load", path);
    if (meta.text("model") != "NeuralCF")
        throw IoError("NeuralCF::load: '" + path + "' holds a '" + meta.text("model") + "' model, not NeuralCF");
    NeuralCF m(options_from_metadata(meta, path));
    const size_type nu = meta.count("n_users");
    const size_type ni = meta.count("n_items");
    // The id maps first: their entries are in the file, so they bound the sizes initialize() allocates.
    auto users = std::make_shared<IdMap>(read_id_map(meta, "user_ids", ' ', "user"));
    auto items = std::make_shared<IdMap>(read_id_map(meta, "item_ids", ' ', "item"));
    if (users->size() != nu || items->size() != ni)
        throw IoError("NeuralCF::load: '" + path + "': id maps do not match n_users/n_items");
    if (nu == 0 || ni == 0)
        throw IoError(detail::concat("NeuralCF::load: '", path, "': a fitted model has users and items, this one ", nu,
                                     " x ", ni));
    m.initialize(nu, ni);  // clears the id maps
    m.users_ = std::move(users);
    m.items_ = std::move(items);
    // Format version 1 stored the seen items as float tensors; version 2 as integer arrays.
    const bool legacy_seen = file.find_integers("seen.items") == nullptr && file.find("seen.items") != nullptr;
    Matrix<T> counts, seen;
    m.fallback_ = meta.flag("fallback");
    Matrix<T> fb_u, fb_i;
    auto refs = m.named_tensors();
    if (legacy_seen) {
        counts = Matrix<T>::from_shape({1, nu});
        seen = Matrix<T>::from_shape({1, file.find("seen.items")->shape(1)});
        refs.push_back({"seen.counts", &counts});
        refs.push_back({"seen.items", &seen});
    }
    if (m.fallback_) {
        fb_u = Matrix<T>::from_shape({1, nu});
        fb_i = Matrix<T>::from_shape({1, ni});
        refs.push_back({"fallback.user", &fb_u});
        refs.push_back({"fallback.item", &fb_i});
    }
    assign_tensors(file, refs, UnknownTensors::reject, path);
    if (legacy_seen)
        m.read_seen(counts, seen, path);
    else
        m.read_seen_integers(file, path);
    if (m.fallback_) {
        m.mu_ = meta.number("fallback.mu");
        if (!std::isfinite(m.mu_)) meta.fail("fallback.mu", "is not a finite number");
        m.fb_user_.assign(fb_u.begin(), fb_u.end());
        m.fb_item_.assign(fb_i.begin(), fb_i.end());
        m.user_known_.assign(nu, 0);
        m.item_known_.assign(ni, 0);
        for (size_type u = 0; u < nu; ++u) m.user_known_[u] = m.seen_ptr_[u + 1] > m.seen_ptr_[u];
        for (const auto i : m.seen_items_) m.item_known_[i] = 1;
    }
    m.net_.refresh_projections();
    return m;
}

}  // namespace cfnet
