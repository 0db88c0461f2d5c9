// ArgReader implementation (see args.h).
#include "args.h"

#include <cmath>
#include <sstream>

#include "errors.h"

namespace layerwise::binding {

ArgReader::ArgReader(const Napi::CallbackInfo& info, const char* op, size_t expected)
    : info_(info), op_(op) {
  if (info.Length() != expected)
    fail("ERR_INVALID_ARGUMENT", "expected " + std::to_string(expected) + " arguments, got " +
                                     std::to_string(info.Length()));
}

void ArgReader::fail(const std::string& code, const std::string& message) {
  throw_native_error(info_.Env(), code, op_, message);
}

BufferArg ArgReader::buffer(size_t i, const char* name) {
  Napi::Value v = info_[i];
  if (!NativeBuffer::IsInstance(v)) fail("ERR_INVALID_ARGUMENT", std::string(name) + " must be a NativeBuffer");
  NativeBuffer* b = NativeBuffer::Unwrap(v.As<Napi::Object>());
  if (b->freed()) fail("ERR_DISPOSED", std::string(name) + " was already freed (disposed tensor)");
  return BufferArg{b->ptr(), b->bytes(), b->device(), name};
}

BufferArg ArgReader::optional_buffer(size_t i, const char* name) {
  if (info_[i].IsNull()) return BufferArg{nullptr, 0, -1, name, false};
  return buffer(i, name);
}

std::vector<BufferArg> ArgReader::buffer_list(size_t i, const char* name) {
  Napi::Value v = info_[i];
  if (!v.IsArray()) fail("ERR_INVALID_ARGUMENT", std::string(name) + " must be an array of NativeBuffers");
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<BufferArg> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value e = arr.Get(k);
    if (!NativeBuffer::IsInstance(e))
      fail("ERR_INVALID_ARGUMENT", std::string(name) + "[" + std::to_string(k) + "] must be a NativeBuffer");
    NativeBuffer* b = NativeBuffer::Unwrap(e.As<Napi::Object>());
    if (b->freed())
      fail("ERR_DISPOSED", std::string(name) + "[" + std::to_string(k) + "] was already freed (disposed tensor)");
    out.push_back(BufferArg{b->ptr(), b->bytes(), b->device(), name});
  }
  return out;
}

int64_t ArgReader::integer(size_t i, const char* name) {
  Napi::Value v = info_[i];
  if (!v.IsNumber()) fail("ERR_INVALID_ARGUMENT", std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9007199254740992.0)
    fail("ERR_INVALID_ARGUMENT", std::string(name) + " must be an integer, got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

double ArgReader::number(size_t i, const char* name) {
  Napi::Value v = info_[i];
  if (!v.IsNumber()) fail("ERR_INVALID_ARGUMENT", std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool ArgReader::boolean(size_t i, const char* name) {
  Napi::Value v = info_[i];
  if (!v.IsBoolean()) fail("ERR_INVALID_ARGUMENT", std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

DType ArgReader::dtype(size_t i, const char* name) {
  Napi::Value v = info_[i];
  if (v.IsString()) {
    const std::string text = v.As<Napi::String>().Utf8Value();
    for (DType t : {DType::kF32, DType::kBF16, DType::kF16, DType::kI32, DType::kU8})
      if (text == dtype_name(t)) return t;
    fail("ERR_INVALID_ARGUMENT", std::string(name) + ": unknown dtype '" + text +
                                     "' (float32, bfloat16, float16, int32, uint8)");
  }
  fail("ERR_INVALID_ARGUMENT", std::string(name) + " must be a dtype name");
}

HostBytes ArgReader::host_bytes(size_t i, const char* name) {
  Napi::Value v = info_[i];
  if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    uint8_t* base = static_cast<uint8_t*>(t.ArrayBuffer().Data());
    return HostBytes{base + t.ByteOffset(), static_cast<int64_t>(t.ByteLength())};
  }
  if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer a = v.As<Napi::ArrayBuffer>();
    return HostBytes{a.Data(), static_cast<int64_t>(a.ByteLength())};
  }
  if (v.IsBuffer()) {
    Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
    return HostBytes{b.Data(), static_cast<int64_t>(b.Length())};
  }
  fail("ERR_INVALID_ARGUMENT", std::string(name) + " must be a TypedArray, Buffer or ArrayBuffer");
}

void ArgReader::require_elements(const BufferArg& buf, int64_t elem, std::initializer_list<int64_t> dims,
                                 const char* shape) {
  int64_t count = 1;
  std::ostringstream values;
  size_t k = 0;
  for (int64_t d : dims) {
    values << (k++ ? ", " : "") << d;
    if (d < 0) fail("ERR_INVALID_ARGUMENT", std::string(buf.name) + " " + shape + " = (" + values.str() + ") has a negative size");
    if (__builtin_mul_overflow(count, d, &count))
      fail("ERR_INVALID_ARGUMENT", std::string(buf.name) + " " + shape + " overflows 64-bit sizes");
  }
  int64_t need = 0;
  if (__builtin_mul_overflow(count, elem, &need))
    fail("ERR_INVALID_ARGUMENT", std::string(buf.name) + " " + shape + " overflows 64-bit sizes");
  if (need > buf.bytes) {
    std::ostringstream msg;
    msg << buf.name << " " << shape << " = (" << values.str() << ") needs " << need
        << " bytes but its buffer holds " << buf.bytes;
    fail("ERR_SHAPE", msg.str());
  }
}

void ArgReader::require_positive(int64_t value, const char* name) {
  if (value <= 0) fail("ERR_INVALID_ARGUMENT", std::string(name) + " must be positive, got " + std::to_string(value));
}

void ArgReader::require_host_length(const HostBytes& host, const char* name, int64_t bytes) {
  if (bytes < 0) fail("ERR_INVALID_ARGUMENT", "negative byte count " + std::to_string(bytes));
  if (host.length < bytes)
    fail("ERR_SHAPE", std::string(name) + " holds " + std::to_string(host.length) + " bytes, needs " +
                          std::to_string(bytes));
}

void ArgReader::require_list(const std::vector<BufferArg>& list, const char* name, int64_t count,
                             bool optional, int64_t elem, const std::vector<int64_t>* numels) {
  int64_t n = static_cast<int64_t>(list.size());
  if (!(n == count || (optional && n == 0)))
    fail("ERR_INVALID_ARGUMENT", std::string(name) + " has " + std::to_string(n) + " buffers, needs " +
                                     std::to_string(count) + (optional ? " (or none)" : ""));
  if (numels == nullptr) return;
  for (int64_t t = 0; t < n; t++) {
    int64_t need = (*numels)[t] * elem;
    if ((*numels)[t] < 0 || list[t].bytes < need)
      fail("ERR_SHAPE", std::string(name) + "[" + std::to_string(t) + "] holds " + std::to_string(list[t].bytes) +
                            " bytes, needs " + std::to_string(need));
  }
}

Backend& ArgReader::backend(std::initializer_list<const BufferArg*> buffers,
                            std::initializer_list<const std::vector<BufferArg>*> lists) {
  int device = -1;
  const char* first = "";
  auto visit = [&](const BufferArg& b) {
    if (device < 0) {
      device = b.device;
      first = b.name;
    } else if (b.device != device) {
      fail("ERR_DEVICE_MISMATCH", std::string(first) + " is on " + device_name(device) + " but " + b.name +
                                      " is on " + device_name(b.device));
    }
  };
  for (const BufferArg* b : buffers)
    if (b->present) visit(*b);
  for (const auto* l : lists)
    for (const BufferArg& b : *l) visit(b);
  if (device < 0) device = kDeviceCpu;
  Backend* be = backend_for(device);
  if (be == nullptr) fail("ERR_DEVICE_UNAVAILABLE", std::string("device ") + device_name(device) + " is not loaded");
  return *be;
}

void ArgReader::check(const Status& status) {
  if (!status.ok()) {
    throw_native_error(info_.Env(), status_code_name(status.code), status.op[0] == '\0' ? op_ : status.op,
                       status.message);
  }
}

}  // namespace layerwise::binding
