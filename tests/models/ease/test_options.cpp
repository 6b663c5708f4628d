// models/ease/options.hpp: defaults, chained setters, validation messages, the memory default.
#include <cfnet/models/ease/options.hpp>

#include <catch2/catch.hpp>

using Catch::Matchers::Contains;
using cfnet::EaseOptions;

TEST_CASE("EaseOptions: setters, validation and the memory default", "[ease]") {
    EaseOptions o;
    CHECK(o.lambda == 500.0);
    CHECK(o.lambdas.empty());
    o.validate();
    o.l2(3).select_lambda({1, 2}).validation(0.1, 20, cfnet::EaseSelection::precision).random_seed(4).most_frequent(9)
        .memory(1234).n_threads(2);
    CHECK(o.lambda == 3);
    CHECK(o.lambdas.size() == 2);
    CHECK(o.validation_fraction == 0.1);
    CHECK(o.validation_k == 20);
    CHECK(o.selection == cfnet::EaseSelection::precision);
    CHECK(o.seed == 4);
    CHECK(o.max_items == 9);
    CHECK(o.effective_memory_limit() == 1234);
    CHECK(o.threads == 2);
    o.validate();
    CHECK(EaseOptions().effective_memory_limit() > (std::size_t(64) << 20));
    CHECK_THROWS_WITH(EaseOptions().l2(-1).validate(), Contains("lambda must be > 0"));
    CHECK_THROWS_WITH(EaseOptions().l2(std::nan("")).validate(), Contains("lambda"));
    CHECK_THROWS_WITH(EaseOptions().select_lambda({1, 0}).validate(), Contains("lambdas[1]"));
    CHECK_THROWS_WITH(EaseOptions().validation(0).validate(), Contains("validation_fraction"));
    CHECK_THROWS_WITH(EaseOptions().validation(0.5, 0).validate(), Contains("validation_k"));
    CHECK_THROWS_WITH(EaseOptions().n_threads(-1).validate(), Contains("threads"));
    CHECK(std::string(cfnet::to_string(cfnet::EaseSelection::ndcg)) == "ndcg");
}
