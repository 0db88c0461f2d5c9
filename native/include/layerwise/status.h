// Status: how every native kernel reports failure. Native code never calls exit/abort and never
// throws across the backend table: a kernel returns a Status, and the N-API binding turns a
// failed one into a JS Error carrying `code` and `op` (see src/errors.ts).
//
// Status is a plain C struct (an int and two fixed-size character arrays) because it crosses the
// boundary between the core addon and a separately compiled backend library (the CUDA backend,
// built by nvcc against its own C++ library): no std::string or other C++ library type may cross.
// The helpers below are inline and run inside whichever library builds the Status.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace layerwise {

enum class StatusCode : int32_t {
  kOk = 0,
  kInvalidArgument = 1,  // bad size, null pointer, unsupported combination
  kOutOfMemory = 2,      // host or device allocation failed
  kBackendError = 3,     // cuDNN / cuBLAS / CUDA / BLAS reported a failure
  kNotImplemented = 4,   // the backend does not support this configuration (e.g. a dtype)
};

struct Status {
  static constexpr int kOpSize = 64;
  static constexpr int kMessageSize = 448;

  StatusCode code;
  char op[kOpSize];            // kernel name, e.g. "conv2d_forward"; NUL-terminated
  char message[kMessageSize];  // what went wrong, with the sizes involved; NUL-terminated

  bool ok() const { return code == StatusCode::kOk; }
  static Status Ok() {
    Status s;
    s.code = StatusCode::kOk;
    s.op[0] = '\0';
    s.message[0] = '\0';
    return s;
  }
  // Longer texts are cut to the arrays' sizes (the message keeps its start: op and sizes).
  static Status Error(StatusCode code, const std::string& op, const std::string& message) {
    Status s;
    s.code = code;
    copy_text(s.op, kOpSize, op);
    copy_text(s.message, kMessageSize, message);
    return s;
  }
  static Status Invalid(const std::string& op, const std::string& message) {
    return Error(StatusCode::kInvalidArgument, op, message);
  }

 private:
  static void copy_text(char* dst, int size, const std::string& src) {
    const size_t n = src.size() < static_cast<size_t>(size - 1) ? src.size() : static_cast<size_t>(size - 1);
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
  }
};

inline const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "ERR_NATIVE_INVALID_ARGUMENT";
    case StatusCode::kOutOfMemory: return "ERR_NATIVE_OUT_OF_MEMORY";
    case StatusCode::kBackendError: return "ERR_NATIVE_BACKEND";
    case StatusCode::kNotImplemented: return "ERR_NATIVE_NOT_IMPLEMENTED";
  }
  return "ERR_NATIVE_UNKNOWN";
}

// Early-return helpers for argument checks inside kernels.
#define LW_CHECK_ARG(cond, op, msg) \
  do {                              \
    if (!(cond)) return ::layerwise::Status::Invalid((op), (msg)); \
  } while (0)

#define LW_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::layerwise::Status lw_status_ = (expr); \
    if (!lw_status_.ok()) return lw_status_; \
  } while (0)

}  // namespace layerwise
