// Argument reading for the generated kernel bindings (generated/kernel_bindings.cc): converts JS
// values to C++ values, checks them (integers, buffer sizes from kernels.h's shape comments,
// devices), and throws a LayerwiseNativeError naming the op and the argument on any mismatch.
#pragma once
#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "backend.h"
#include "buffer.h"
#include "layerwise/dtype.h"
#include "layerwise/status.h"

namespace layerwise::binding {

// A raw view of one NativeBuffer argument.
struct BufferArg {
  void* ptr = nullptr;
  int64_t bytes = 0;
  int device = 0;
  const char* name = "";
  bool present = true;  // false for a null optional buffer (ptr is then nullptr)
};

struct HostBytes {
  void* data = nullptr;
  int64_t length = 0;
};

class ArgReader {
 public:
  ArgReader(const Napi::CallbackInfo& info, const char* op, size_t expected);

  BufferArg buffer(size_t i, const char* name);
  // A buffer the kernel allows to be absent (`// (..), or null` in kernels.h): JS null gives present = false.
  BufferArg optional_buffer(size_t i, const char* name);
  std::vector<BufferArg> buffer_list(size_t i, const char* name);
  int64_t integer(size_t i, const char* name);
  double number(size_t i, const char* name);
  bool boolean(size_t i, const char* name);
  // A dtype given by its TypeScript name ('float32', 'bfloat16', 'float16', 'int32', 'uint8').
  DType dtype(size_t i, const char* name);
  HostBytes host_bytes(size_t i, const char* name);
  template <typename T>
  std::vector<T> host_array(size_t i, const char* name);

  // Checks that `buf` holds at least prod(dims) elements of `elem` bytes; shape is the text of
  // the kernels.h comment, used in the message.
  void require_elements(const BufferArg& buf, int64_t elem, std::initializer_list<int64_t> dims,
                        const char* shape);
  template <typename T>
  void require_length(const std::vector<T>& values, const char* name, int64_t length);
  // A size that a shape expression divides by (e.g. groups) must be positive.
  void require_positive(int64_t value, const char* name);
  void require_host_length(const HostBytes& host, const char* name, int64_t bytes);
  // Checks a buffer list's length (num_tensors, or 0 when optional) and each element's size.
  void require_list(const std::vector<BufferArg>& list, const char* name, int64_t count,
                    bool optional, int64_t elem, const std::vector<int64_t>* numels);

  // Chooses the backend of the buffers' device; all buffers must share it.
  Backend& backend(std::initializer_list<const BufferArg*> buffers,
                   std::initializer_list<const std::vector<BufferArg>*> lists = {});
  void check(const Status& status);

  [[noreturn]] void fail(const std::string& code, const std::string& message);

 private:
  const Napi::CallbackInfo& info_;
  const char* op_;
};

template <typename T>
std::vector<T> ArgReader::host_array(size_t i, const char* name) {
  Napi::Value v = info_[i];
  std::vector<T> out;
  if (v.IsTypedArray() || v.IsArray()) {
    Napi::Object arr = v.As<Napi::Object>();
    uint32_t len = arr.Get("length").As<Napi::Number>().Uint32Value();
    out.reserve(len);
    for (uint32_t k = 0; k < len; k++) {
      Napi::Value e = arr.Get(k);
      if (!e.IsNumber()) fail("ERR_INVALID_ARGUMENT", std::string(name) + "[" + std::to_string(k) + "] is not a number");
      double d = e.As<Napi::Number>().DoubleValue();
      if constexpr (std::is_integral_v<T>) {
        if (d != static_cast<double>(static_cast<int64_t>(d)))
          fail("ERR_INVALID_ARGUMENT", std::string(name) + "[" + std::to_string(k) + "] = " + std::to_string(d) + " is not an integer");
      }
      out.push_back(static_cast<T>(d));
    }
    return out;
  }
  fail("ERR_INVALID_ARGUMENT", std::string(name) + " must be an array of numbers");
}

template <typename T>
void ArgReader::require_length(const std::vector<T>& values, const char* name, int64_t length) {
  if (length < 0) fail("ERR_INVALID_ARGUMENT", std::string(name) + ": negative length " + std::to_string(length));
  if (static_cast<int64_t>(values.size()) < length)
    fail("ERR_INVALID_ARGUMENT", std::string(name) + " has " + std::to_string(values.size()) +
                                     " entries, needs " + std::to_string(length));
}

}  // namespace layerwise::binding
