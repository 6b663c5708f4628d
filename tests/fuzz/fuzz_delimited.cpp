// Fuzz target: the delimited rating reader (data/io.hpp, load_ratings) with every MovieLens
// format and a few custom layouts. Byte 0 picks the format, byte 1 the custom options; the rest
// is the file. Contract: a loaded matrix meets every invariant (check_matrix); a failure is an
// IoError/ParseError naming the file.

#include "fuzz_common.hpp"

#include <cfnet/data/io.hpp>
#include <cfnet/data/movielens.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t pick = data[0], opt = data[1];
    const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
    cfnet::DelimitedFormat fmt;
    switch (pick % 6) {
        case 0: fmt = cfnet::movielens::format_100k(); break;
        case 1: fmt = cfnet::movielens::format_1m(); break;
        case 2: fmt = cfnet::movielens::format_10m(); break;
        case 3: fmt = cfnet::movielens::format_csv(); break;
        case 4: {
            static const char* const seps[] = {",", "\t", ";", "::", "|", " "};
            fmt.separator(seps[opt % 6]).header((opt & 0x08) != 0).quote((opt & 0x10) ? '"' : '\0');
            if (opt & 0x20) fmt.columns(1, 0, 2, (opt & 0x40) ? 3 : -1);
            if (opt & 0x80) fmt.fields(4);
            break;
        }
        default: fmt.whitespace().header((opt & 1) != 0); break;
    }
    const std::string path = cfnet_fuzz::write(cfnet_fuzz::scratch() + "/ratings.txt", text);
    cfnet_fuzz::expect_contract(path, [&] { cfnet_fuzz::check_matrix(cfnet::load_ratings<float>(path, fmt)); });
    return 0;
}
