// JS error construction for the binding (see errors.h). With the CUDA backend started, errors get
// what a user needs next: an out-of-memory error the CUDA allocator's state (allocated, cached,
// reserved bytes: emptyCache() frees the cached part), and any error raised while the context is
// poisoned by a sticky CUDA error says so (training must stop; src/train/checkpoint.ts then
// refuses to write device state).
#include "errors.h"

#include "backend.h"

namespace layerwise::binding {

namespace {
Napi::FunctionReference error_class;

std::string cuda_note(const std::string& code) {
  const CudaApi* api = cuda_api();
  Backend* be = api != nullptr ? backend_for(kDeviceCuda) : nullptr;
  if (be == nullptr) return "";
  std::string note;
  LayerwiseCudaMemoryStats s{};
  if (code == "ERR_NATIVE_OUT_OF_MEMORY" && api->memory_stats != nullptr && api->memory_stats(be->ctx, &s) == 0) {
    note += " [CUDA allocator now: " + std::to_string(s.allocated_bytes) + " bytes allocated, " +
            std::to_string(s.cached_bytes) + " cached, " + std::to_string(s.reserved_bytes) + " reserved]";
  }
  char sticky[512] = {0};
  if (api->sticky_error != nullptr && api->sticky_error(be->ctx, sticky, sizeof(sticky)) != 0) {
    note += std::string(" [the CUDA context is poisoned by a sticky error (") + sticky +
            "): every later CUDA call fails; stop and resume from the last checkpoint in a new process]";
  }
  return note;
}
}  // namespace

void set_error_class(Napi::Function ctor) {
  error_class = Napi::Persistent(ctor);
  error_class.SuppressDestruct();
}

void throw_native_error(Napi::Env env, const std::string& code, const std::string& op,
                        const std::string& message) {
  std::string text = (op.empty() ? message : op + ": " + message) + cuda_note(code);
  Napi::Object err;
  if (!error_class.IsEmpty()) {
    err = error_class.New({Napi::String::New(env, text), Napi::String::New(env, code),
                           Napi::String::New(env, op)});
  } else {
    err = Napi::Error::New(env, text).Value();
    err.Set("code", Napi::String::New(env, code));
    err.Set("op", Napi::String::New(env, op));
  }
  throw Napi::Error(env, err);
}

}  // namespace layerwise::binding
