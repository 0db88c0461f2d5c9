// The CUDA backend's context: the non-inline helpers of context.h (CUDA / cuBLASLt / cuDNN
// statuses to Status, sticky-error poisoning, describe, check_sizes) and the C ABI of api.h that
// layerwise_cuda.so exports for the binding (backend creation, device discovery, allocator
// statistics, empty_cache, TF32 switch, sticky error). Only these extern "C" functions have
// default visibility; everything else in the library is hidden.
// References: CUDA Runtime API "Error Handling" (cudaGetErrorName/String, which errors leave the
// process in an inconsistent state: driver_types.h), "Device Management", "Stream Management";
// cuBLASLt cublasLtCreate / cublasLtGetStatusName; cuDNN 9 cudnnCreate, cudnnSetStream,
// cudnnGetErrorString, cudnnGetLastErrorString.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "cuda/allocator.h"
#include "cuda/api.h"
#include "cuda/context.h"

#define LW_CUDA_EXPORT extern "C" __attribute__((visibility("default")))

namespace layerwise::cuda {

const KernelTable* kernel_table();  // table.cu

namespace {

// Errors after which every later CUDA call of the process fails the same way (driver_types.h:
// "the process must be terminated and relaunched").
bool is_sticky(cudaError_t err) {
  switch (err) {
    case cudaErrorIllegalAddress: case cudaErrorLaunchFailure: case cudaErrorLaunchTimeout:
    case cudaErrorAssert: case cudaErrorHardwareStackError: case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress: case cudaErrorInvalidAddressSpace: case cudaErrorInvalidPc:
    case cudaErrorECCUncorrectable: case cudaErrorNvlinkUncorrectable: case cudaErrorContained:
    case cudaErrorTensorMemoryLeak: case cudaErrorMpsClientTerminated: case cudaErrorExternalDevice:
      return true;
    default:
      return false;
  }
}

std::string error_text(cudaError_t err) {
  return std::string(cudaGetErrorName(err)) + " (" + cudaGetErrorString(err) + ")";
}

void copy_text(char* dst, int size, const std::string& text) {
  if (dst == nullptr || size <= 0) return;
  const size_t n = text.size() < static_cast<size_t>(size - 1) ? text.size() : static_cast<size_t>(size - 1);
  std::memcpy(dst, text.data(), n);
  dst[n] = '\0';
}

}  // namespace

Status cuda_status(Context& ctx, const char* op, cudaError_t err, const char* what) {
  ctx.work_serial++;
  if (err == cudaSuccess) return Status::Ok();
  const std::string from = (what != nullptr && what[0] != '\0') ? std::string(" from ") + what : "";
  if (is_sticky(err)) {
    const std::string message = error_text(err) +
                                ", a sticky error: the CUDA context is unusable, restart the process" + from;
    if (!ctx.poisoned) {
      ctx.poisoned = true;
      copy_text(ctx.poison_message, sizeof ctx.poison_message, std::string(op) + ": " + message);
    }
    return Status::Error(StatusCode::kBackendError, op, message);
  }
  (void)cudaGetLastError();  // a failed call also sets the last error: clear it for check_launch
  const StatusCode code = err == cudaErrorMemoryAllocation ? StatusCode::kOutOfMemory : StatusCode::kBackendError;
  return Status::Error(code, op, error_text(err) + from);
}

Status cublas_status(const char* op, cublasStatus_t st, const char* what) {
  if (st == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  const StatusCode code = st == CUBLAS_STATUS_ALLOC_FAILED     ? StatusCode::kOutOfMemory
                          : st == CUBLAS_STATUS_NOT_SUPPORTED ? StatusCode::kNotImplemented
                                                              : StatusCode::kBackendError;
  std::string message = std::string(cublasLtGetStatusName(st)) + " (" + cublasLtGetStatusString(st) + ")";
  if (what != nullptr && what[0] != '\0') message += std::string(" from ") + what;
  return Status::Error(code, op, message);
}

Status cudnn_status(const char* op, cudnnStatus_t st, const char* what) {
  if (st == CUDNN_STATUS_SUCCESS) return Status::Ok();
  const int category = CUDNN_STATUS_CATEGORY(static_cast<int>(st));
  const StatusCode code = st == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED ||
                                  st == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED
                              ? StatusCode::kOutOfMemory
                          : category == CUDNN_STATUS_NOT_SUPPORTED ? StatusCode::kNotImplemented
                                                                   : StatusCode::kBackendError;
  char detail[256] = {0};
  cudnnGetLastErrorString(detail, sizeof detail);
  std::string message = cudnnGetErrorString(st);
  if (detail[0] != '\0') message += std::string(" (") + detail + ")";
  if (what != nullptr && what[0] != '\0') message += std::string(" from ") + what;
  return Status::Error(code, op, message);
}

Status check_context(Context& ctx, const char* op) {
  ctx.work_serial++;
  if (!ctx.poisoned) return Status::Ok();
  return Status::Error(StatusCode::kBackendError, op,
                       std::string("the CUDA context is unusable after an earlier error: ") + ctx.poison_message);
}

Status check_launch(Context& ctx, const char* op) {
  LW_STATUS_TRY(check_context(ctx, op));
  return cuda_status(ctx, op, cudaGetLastError(), "kernel launch");
}

std::string describe(std::initializer_list<std::pair<const char*, int64_t>> values) {
  std::string out;
  for (const auto& [name, value] : values) {
    if (!out.empty()) out += ", ";
    out += std::string(name) + "=" + std::to_string(value);
  }
  return out;
}

Status check_sizes(const char* op, std::initializer_list<std::pair<const char*, int64_t>> values, bool allow_zero) {
  for (const auto& [name, value] : values) {
    if (value < 0 || (!allow_zero && value == 0)) {
      return Status::Invalid(op, std::string(name) + " must be " + (allow_zero ? "non-negative" : "positive") + " (" +
                                     describe(values) + ")");
    }
  }
  return Status::Ok();
}

namespace {

constexpr const char* kSetup = "cuda_backend";

// Devices visible to this process, or a Status naming why none is usable.
Status visible_devices(const char* op, int* count) {
  *count = 0;
  const cudaError_t err = cudaGetDeviceCount(count);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    return Status::Error(StatusCode::kBackendError, op, "no CUDA device: cudaGetDeviceCount returned " + error_text(err));
  }
  if (*count == 0) return Status::Error(StatusCode::kBackendError, op, "no CUDA device: cudaGetDeviceCount found 0 devices");
  return Status::Ok();
}

// LAYERWISE_CUDA_DEVICE (default 0), checked against the device count.
Status chosen_device(int count, int* device) {
  const char* env = std::getenv("LAYERWISE_CUDA_DEVICE");
  *device = 0;
  if (env == nullptr || env[0] == '\0') return Status::Ok();
  char* end = nullptr;
  const long value = std::strtol(env, &end, 10);
  if (*end != '\0' || value < 0 || value >= count)
    return Status::Invalid(kSetup, std::string("LAYERWISE_CUDA_DEVICE=") + env + " is not a device index (0.." +
                                       std::to_string(count - 1) + ")");
  *device = static_cast<int>(value);
  return Status::Ok();
}

void destroy(Context* c) {
  destroy_conv_plans(*c);
  destroy_matmul_plans(*c);
  if (c->cudnn != nullptr) (void)cudnnDestroy(c->cudnn);
  if (c->cublaslt != nullptr) (void)cublasLtDestroy(c->cublaslt);
  if (c->copy_stream != nullptr) (void)cudaStreamDestroy(c->copy_stream);
  if (c->stream != nullptr) (void)cudaStreamDestroy(c->stream);
  (void)cudaGetLastError();
  delete c;
}

Status create_context(Context** out) {
  int count = 0, device = 0;
  LW_STATUS_TRY(visible_devices(kSetup, &count));
  LW_STATUS_TRY(chosen_device(count, &device));
  auto* c = new (std::nothrow) Context();
  if (c == nullptr) return Status::Error(StatusCode::kOutOfMemory, kSetup, "cannot allocate the CUDA context");
  c->device = device;
  Status st = cuda_status(*c, kSetup, cudaSetDevice(device), "cudaSetDevice");
  if (st.ok()) st = cuda_status(*c, kSetup, cudaGetDeviceProperties(&c->props, device), "cudaGetDeviceProperties");
  if (st.ok()) st = cuda_status(*c, kSetup, cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  if (st.ok())
    st = cuda_status(*c, kSetup, cudaStreamCreateWithFlags(&c->copy_stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  if (st.ok()) st = cublas_status(kSetup, cublasLtCreate(&c->cublaslt), "cublasLtCreate");
  if (st.ok()) st = cudnn_status(kSetup, cudnnCreate(&c->cudnn), "cudnnCreate");
  if (st.ok()) st = cudnn_status(kSetup, cudnnSetStream(c->cudnn, c->stream), "cudnnSetStream");
  if (st.ok()) st = allocator_create(*c);
  if (!st.ok()) {
    destroy(c);
    return st;
  }
  *out = c;
  return Status::Ok();
}

int fail(const Status& st, char* error, int error_len) {
  copy_text(error, error_len, std::string(st.op) + ": " + st.message);
  return 1;
}

}  // namespace
}  // namespace layerwise::cuda

using layerwise::Status;
using layerwise::cuda::Context;

// One context per process, created on first use and never destroyed (buffers may be freed while
// the process exits).
LW_CUDA_EXPORT int layerwise_cuda_backend(void** ctx, const layerwise::KernelTable** table, char* error, int error_len) {
  static Context* context = nullptr;
  if (context == nullptr) {
    const Status st = layerwise::cuda::create_context(&context);
    if (!st.ok()) return layerwise::cuda::fail(st, error, error_len);
  }
  *ctx = context;
  *table = layerwise::cuda::kernel_table();
  return 0;
}

LW_CUDA_EXPORT int layerwise_cuda_device_count(int32_t* count, char* error, int error_len) {
  int n = 0;
  const Status st = layerwise::cuda::visible_devices("device_count", &n);
  *count = n;
  return st.ok() ? 0 : layerwise::cuda::fail(st, error, error_len);
}

// Free memory needs a context on `device`: the device is made current for the query and the
// previous one restored (cudaMemGetInfo reports on the current device).
LW_CUDA_EXPORT int layerwise_cuda_device_info(int32_t device, LayerwiseCudaDeviceInfo* out, char* error, int error_len) {
  using layerwise::cuda::cuda_status;
  Context scratch;  // cuda_status needs a context to poison; this one is thrown away
  std::memset(out, 0, sizeof *out);
  cudaDeviceProp props{};
  int previous = 0, driver = 0, runtime = 0;
  size_t free_bytes = 0, total_bytes = 0;
  Status st = cuda_status(scratch, "device_info", cudaGetDeviceProperties(&props, device), "cudaGetDeviceProperties");
  if (st.ok()) st = cuda_status(scratch, "device_info", cudaGetDevice(&previous), "cudaGetDevice");
  if (st.ok()) st = cuda_status(scratch, "device_info", cudaSetDevice(device), "cudaSetDevice");
  if (st.ok()) {
    st = cuda_status(scratch, "device_info", cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    const Status back = cuda_status(scratch, "device_info", cudaSetDevice(previous), "cudaSetDevice");
    if (st.ok()) st = back;
  }
  if (st.ok()) st = cuda_status(scratch, "device_info", cudaDriverGetVersion(&driver), "cudaDriverGetVersion");
  if (st.ok()) st = cuda_status(scratch, "device_info", cudaRuntimeGetVersion(&runtime), "cudaRuntimeGetVersion");
  if (!st.ok()) return layerwise::cuda::fail(st, error, error_len);
  layerwise::cuda::copy_text(out->name, sizeof out->name, props.name);
  out->major = props.major;
  out->minor = props.minor;
  out->total_memory = static_cast<int64_t>(total_bytes);
  out->free_memory = static_cast<int64_t>(free_bytes);
  out->multiprocessors = props.multiProcessorCount;
  out->driver_version = driver;
  out->runtime_version = runtime;
  out->cudnn_version = static_cast<int32_t>(cudnnGetVersion());
  out->cublaslt_version = static_cast<int32_t>(cublasLtGetVersion());
  return 0;
}

LW_CUDA_EXPORT int layerwise_cuda_memory_stats(void* ctx, LayerwiseCudaMemoryStats* out) {
  if (ctx == nullptr || out == nullptr) return 1;
  layerwise::cuda::allocator_stats(*static_cast<Context*>(ctx), out);
  return 0;
}

LW_CUDA_EXPORT int layerwise_cuda_empty_cache(void* ctx) {
  if (ctx == nullptr) return 1;
  return layerwise::cuda::allocator_empty_cache(*static_cast<Context*>(ctx), "empty_cache").ok() ? 0 : 1;
}

LW_CUDA_EXPORT int layerwise_cuda_set_tf32(void* ctx, int32_t allow) {
  if (ctx == nullptr) return 1;
  static_cast<Context*>(ctx)->allow_tf32 = allow != 0;
  return 0;
}

// Also asks the stream: an asynchronous fault not yet seen by any call is found here.
LW_CUDA_EXPORT int layerwise_cuda_sticky_error(void* ctx, char* error, int error_len) {
  if (ctx == nullptr) return 0;
  auto& c = *static_cast<Context*>(ctx);
  if (!c.poisoned) {
    const cudaError_t err = cudaStreamQuery(c.stream);
    if (err != cudaSuccess && err != cudaErrorNotReady) (void)layerwise::cuda::cuda_status(c, "sticky_error", err, "cudaStreamQuery");
  }
  if (!c.poisoned) {
    layerwise::cuda::copy_text(error, error_len, "");
    return 0;
  }
  layerwise::cuda::copy_text(error, error_len, c.poison_message);
  return 1;
}
