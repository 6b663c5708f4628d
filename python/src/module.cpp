// cfnet._cfnet: the module, its exception mapping, and the calls into each translation unit.
#include "common.hpp"

#include <cfnet/config.hpp>

namespace cfnet_py {
namespace {
PyObject* numerical_error = nullptr;
}
}  // namespace cfnet_py

PYBIND11_MODULE(_cfnet, m) {
    using namespace cfnet_py;
    m.doc() = "cfnet's C++ core (float): models, data, metrics. Import the `cfnet` package, not this module.";

    // cfnet::NumericalError -> cfnet.NumericalError (an ArithmeticError); IoError (ParseError too)
    // -> OSError; InvalidArgument -> ValueError; always with the C++ message.
    static py::exception<cfnet::NumericalError> numerical(m, "NumericalError", PyExc_ArithmeticError);
    numerical_error = numerical.ptr();
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const cfnet::NumericalError& e) {
            PyErr_SetString(numerical_error, e.what());
        } catch (const cfnet::IoError& e) {
            PyErr_SetString(PyExc_OSError, e.what());
        } catch (const cfnet::InvalidArgument& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        }
    });

    init_data(m);
    init_metrics(m);
    init_autoencoder(m);
    init_ensemble(m);  // after AutoencoderCF: its members are AutoencoderCF objects
    init_neural_cf(m);
    init_double(m);
    init_other_models(m);

    m.attr("__version__") = CFNET_VERSION_STRING;
}
