// Status: how every native kernel reports failure. Native code never calls exit/abort and never
// throws across the C ABI: a kernel returns a Status, and the N-API binding turns a failed one
// into a JS Error carrying `code` and `op` (see src/errors.ts).
#pragma once
#include <string>
#include <utility>

namespace layerwise {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // bad size, null pointer, unsupported combination
  kOutOfMemory = 2,      // host or device allocation failed
  kBackendError = 3,     // cuDNN / cuBLAS / CUDA / BLAS reported a failure
  kNotImplemented = 4,   // the backend does not support this configuration
};

struct Status {
  StatusCode code = StatusCode::kOk;
  std::string op;       // kernel name, e.g. "conv2d_forward"
  std::string message;  // what went wrong, with the sizes involved

  bool ok() const { return code == StatusCode::kOk; }
  static Status Ok() { return Status{}; }
  static Status Error(StatusCode code, std::string op, std::string message) {
    return Status{code, std::move(op), std::move(message)};
  }
  static Status Invalid(std::string op, std::string message) {
    return Error(StatusCode::kInvalidArgument, std::move(op), std::move(message));
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
