// The error types raised to Python and MT_CHECK, which builds a message from its arguments.
#pragma once
#include <cstdint>
#include <charconv>
#include <type_traits>
#include <stdexcept>
#include <string>
#include <vector>

namespace mytensor {

// Registered with Python in bindings/errors.cpp: ShapeError(ValueError, RuntimeError),
// DTypeError(TypeError, RuntimeError), DeviceError(RuntimeError), CudaError(RuntimeError),
// OutOfMemoryError(RuntimeError, MemoryError), GraphCaptureError(RuntimeError).
// std::invalid_argument arrives as ValueError, std::out_of_range as IndexError and
// std::overflow_error as OverflowError.
struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct DTypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct DeviceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// An allocation the host or the device could not satisfy; the message names the size.
struct OutOfMemoryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Something a CUDA graph capture cannot record (a host read, a host-to-device copy, a sync), or
// a replay whose inputs or settings differ from the captured ones (cuda/runtime.h, graphs.py).
struct GraphCaptureError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Prints a shape as PyTorch does in messages: (4, 3); a 0-d shape is ().
std::string shape_str(const std::vector<int64_t>& shape);

namespace detail {
// Messages are built without iostreams: number formatting through std::ostream consults the
// locale's facets, and a build whose libstdc++ is linked statically into the extension while
// the interpreter loads the shared one (seen on the GPU machine's toolchain) crashes there.
// std::to_chars is locale-free.
inline void append_one(std::string& s, const std::string& v) { s += v; }
inline void append_one(std::string& s, const char* v) { s += v ? v : "(null)"; }
inline void append_one(std::string& s, char v) { s += v; }
inline void append_one(std::string& s, bool v) { s += v ? "true" : "false"; }
template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> append_one(std::string& s, T v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  s.append(buf, res.ptr);
}
inline void append(std::string&) {}
template <class T, class... Rest>
void append(std::string& s, const T& v, const Rest&... rest) {
  if constexpr (std::is_array_v<T>) {
    append_one(s, static_cast<const char*>(v));
  } else {
    append_one(s, v);
  }
  append(s, rest...);
}
template <class E, class... Args>
[[noreturn]] void throw_error(const Args&... args) {
  std::string s;
  append(s, args...);
  throw E(s);
}
}  // namespace detail

// Overflow-checked int64 arithmetic for shape, stride, offset and byte-size computations (every
// path that creates or views storage goes through these, so a wrapped count never sizes an
// allocation or a view). On overflow: ShapeError "[op] <what> overflows int64 (a x b)".
inline int64_t checked_mul(int64_t a, int64_t b, const char* op, const char* what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    detail::throw_error<ShapeError>("[", op, "] ", what, " overflows int64 (", a, " x ", b, ")");
  return r;
}
inline int64_t checked_add(int64_t a, int64_t b, const char* op, const char* what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    detail::throw_error<ShapeError>("[", op, "] ", what, " overflows int64 (", a, " + ", b, ")");
  return r;
}
inline int64_t checked_sub(int64_t a, int64_t b, const char* op, const char* what) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r))
    detail::throw_error<ShapeError>("[", op, "] ", what, " overflows int64 (", a, " - ", b, ")");
  return r;
}

}  // namespace mytensor

// MT_CHECK(cond, ErrorType, message parts...): throws ErrorType with the parts streamed together.
#define MT_CHECK(cond, Err, ...)                               \
  do {                                                         \
    if (!(cond)) ::mytensor::detail::throw_error<Err>(__VA_ARGS__); \
  } while (0)
