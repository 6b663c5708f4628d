#pragma once
/// @file tools/cfnet/cmd_info.hpp
/// `cfnet info MODEL`: what a model file contains, read and verified without building the model.

#include "common.hpp"

#include <cfnet/serialize.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>

namespace cfnet_cli {

struct InfoArgs {
    std::string model_file;
    std::string json;  ///< also write the description as JSON here (optional)
    bool full = false; ///< print long metadata values in full
};

namespace detail {

/// "1,234,567".
inline std::string grouped(std::uint64_t v) {
    std::string s = std::to_string(v);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

/// A long metadata value shortened for the terminal: comma/space-separated lists become
/// "<n> values: a,b,c ... z", other text is cut with "...".
inline std::string shorten(const std::string& v, std::size_t max = 72) {
    if (v.size() <= max && v.find('\n') == std::string::npos) return v;
    if (v.find('\n') != std::string::npos) {  // a list of names (string ids), one per line
        std::string flat = v;
        std::replace(flat.begin(), flat.end(), '\n', ',');
        return flat.size() <= max ? flat : shorten(flat, max);
    }
    const char sep = v.find(',') != std::string::npos ? ',' : ' ';
    const auto n = static_cast<std::size_t>(std::count(v.begin(), v.end(), sep)) + 1;
    const std::string head = v.substr(0, max / 2);
    const std::string tail = v.substr(v.rfind(sep) + 1);
    return std::to_string(n) + " values: " + head.substr(0, head.rfind(sep)) + " ... " + tail;
}

}  // namespace detail

/// Prints the description of `args.model_file` on stdout (and as JSON to args.json).
/// @throws cfnet::IoError for a missing, unreadable, truncated or corrupt file or one that is not
///         a cfnet model file.
inline int run_info(const InfoArgs& args) {
    const cfnet::ModelFileInfo info = cfnet::read_model_info(args.model_file);
    const auto model = meta_value(info.metadata, "model");
    char crc[16];
    std::snprintf(crc, sizeof crc, "0x%08x", static_cast<unsigned>(info.checksum));
    std::uint64_t scalars = 0;
    for (const auto& t : info.tensors) scalars += static_cast<std::uint64_t>(t.rows) * t.cols;

    std::cout << "file:      " << args.model_file << '\n'
              << "model:     " << (model ? *model : std::string("(none: a tensor file without a 'model' entry)")) << '\n'
              << "format:    cfnet model file version " << info.version << ", " << cfnet::to_string(info.scalar_type)
              << " tensors\n"
              << "size:      " << detail::grouped(info.file_size) << " bytes\n"
              << "checksum:  CRC-32 " << crc << " (verified)\n";
    if (const auto s = meta_value(info.metadata, meta_split))
        std::cout << "trained:   by 'cfnet train' on " << meta_value(info.metadata, meta_data).value_or("?") << ", split "
                  << *s << ", seed " << meta_value(info.metadata, meta_seed).value_or("?") << '\n';
    std::size_t width = 0;
    for (const auto& kv : info.metadata) width = std::max(width, kv.first.size());
    std::cout << "metadata:  " << info.metadata.size() << " entries\n";
    for (const auto& [k, v] : info.metadata)
        std::cout << "  " << k << std::string(width - k.size(), ' ') << " = " << (args.full ? v : detail::shorten(v))
                  << '\n';
    width = 0;
    for (const auto& t : info.tensors) width = std::max(width, t.name.size());
    std::cout << "tensors:   " << info.tensors.size() << " (" << detail::grouped(scalars) << " values)\n";
    for (const auto& t : info.tensors) {
        const std::string shape = std::to_string(t.rows) + " x " + std::to_string(t.cols);
        std::cout << "  " << t.name << std::string(width - t.name.size(), ' ') << "  " << shape
                  << std::string(shape.size() < 14 ? 14 - shape.size() : 1, ' ')
                  << detail::grouped(static_cast<std::uint64_t>(t.rows) * t.cols) << '\n';
    }

    if (!args.json.empty()) {
        nlohmann::json j;
        j["file"] = args.model_file;
        j["model"] = model ? nlohmann::json(*model) : nlohmann::json(nullptr);
        j["format_version"] = info.version;
        j["scalar_type"] = cfnet::to_string(info.scalar_type);
        j["file_size"] = info.file_size;
        j["checksum"] = crc;
        j["metadata"] = nlohmann::json::object();
        for (const auto& [k, v] : info.metadata) j["metadata"][k] = v;
        j["tensors"] = nlohmann::json::array();
        for (const auto& t : info.tensors) j["tensors"].push_back({{"name", t.name}, {"rows", t.rows}, {"cols", t.cols}});
        j["values"] = scalars;
        write_json_file(args.json, j);
    }
    return exit_ok;
}

}  // namespace cfnet_cli
