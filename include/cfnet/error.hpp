#pragma once
/// @file error.hpp
/// cfnet's exception types and the small helpers that build their messages.
///
/// - cfnet::InvalidArgument (a std::invalid_argument): wrong shapes, unknown ids, bad options.
/// - cfnet::IoError (a std::runtime_error): a file that cannot be opened, read or written.
/// - cfnet::ParseError (an IoError): malformed input; names the file, the 1-based line and the field.
/// - cfnet::NumericalError (a std::runtime_error): a diverging computation (NaN/Inf loss).
/// - cfnet::OutOfMemory (a std::bad_alloc): an allocation of the model toolkit that failed, with
///   what it was for and how many bytes it needed.

#include <cfnet/config.hpp>

#include <cstddef>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace cfnet {

class InvalidArgument : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

class IoError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ParseError : public IoError {
public:
    ParseError(std::string file, std::size_t line, std::string field, const std::string& what)
        : IoError(file + ":" + std::to_string(line) + ": field '" + field + "': " + what),
          file_(std::move(file)), line_(line), field_(std::move(field)) {}

    const std::string& file() const noexcept { return file_; }
    std::size_t line() const noexcept { return line_; }
    const std::string& field() const noexcept { return field_; }

private:
    std::string file_;
    std::size_t line_;
    std::string field_;
};

class NumericalError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A std::bad_alloc that says what could not be allocated and how many bytes it needed, so that
/// code catching std::bad_alloc still catches it.
class OutOfMemory : public std::bad_alloc {
public:
    explicit OutOfMemory(std::string what) : what_(std::move(what)) {}
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::string what_;
};

namespace detail {

/// concat(args...): the arguments streamed into one string (the text of cfnet's exceptions).
/// A function object rather than a function template: argument-dependent lookup ignores objects, so
/// another library's unqualified `concat(...)` (pybind11's signature code, whose arguments carry
/// types derived from classes in cfnet::detail, e.g. baselines.hpp's BaselineRecommender) cannot
/// pick this one up. Calls read as before: detail::concat("x = ", x).
struct ConcatFn {
    template <class... Args>
    std::string operator()(Args&&... args) const {
        std::ostringstream os;
        ((os << std::forward<Args>(args)), ...);
        return os.str();
    }
};
inline constexpr ConcatFn concat{};

}  // namespace detail

/// Throws InvalidArgument with the concatenation of `args` when `cond` is false.
template <class... Args>
inline void check_arg(bool cond, Args&&... args) {
    if (!cond) throw InvalidArgument(detail::concat(std::forward<Args>(args)...));
}

}  // namespace cfnet
