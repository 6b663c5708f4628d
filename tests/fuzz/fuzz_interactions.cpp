// Fuzz target: the interaction-file reader (data/interactions.hpp: string or integer ids, header
// detection, separators, quoting, comments, duplicates) and load_item_titles on its item space.
// Bytes 0-1 pick the options; the rest is "interactions\n~~~\nitems".
// Contract: a loaded matrix meets every invariant; titles has one entry per item; a failure is an
// IoError/ParseError naming the file.

#include "fuzz_common.hpp"

#include <cfnet/data/interactions.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t a = data[0], b = data[1];
    const auto parts = cfnet_fuzz::split_parts(std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2), 2);
    cfnet::InteractionFileOptions o;
    static const char* const seps[] = {"auto", ",", "\t", ";", "whitespace", "::", "|", "auto"};
    o.separator(seps[a % 8]);
    o.header(a & 0x08 ? cfnet::HeaderMode::yes : (a & 0x10 ? cfnet::HeaderMode::no : cfnet::HeaderMode::auto_detect));
    switch ((a >> 5) % 4) {
        case 0: break;  // 0, 1, 2
        case 1: o.user("user").item("item").rating("rating"); break;
        case 2: o.user(1).item(0).no_rating(); break;
        default: o.user("u").item("i").rating(2).timestamp("t"); break;
    }
    static const cfnet::IdKind kinds[] = {cfnet::IdKind::auto_detect, cfnet::IdKind::integer, cfnet::IdKind::string};
    o.user_ids(kinds[b % 3]).item_ids(kinds[(b / 3) % 3]);
    static const cfnet::DuplicatePolicy dups[] = {cfnet::DuplicatePolicy::error, cfnet::DuplicatePolicy::keep_last,
                                                  cfnet::DuplicatePolicy::mean};
    o.duplicates(dups[(b / 9) % 3]);
    if (b & 0x40) o.comment("#");
    if (b & 0x80) o.quote('\'');
    const std::string path = cfnet_fuzz::write(cfnet_fuzz::scratch() + "/interactions.txt", parts[0]);
    const std::string items = cfnet_fuzz::write(cfnet_fuzz::scratch() + "/items.txt", parts[1]);
    cfnet_fuzz::expect_contract(path, [&] {
        const auto m = cfnet::load_interactions<float>(path, o);
        cfnet_fuzz::check_matrix(m);
        cfnet_fuzz::expect_contract(items, [&] {
            const auto titles = cfnet::load_item_titles(items, cfnet::ItemFileOptions(), m.items());
            cfnet_fuzz::require(titles.size() == m.n_items(), "load_item_titles: not one title per item");
        });
    });
    return 0;
}
