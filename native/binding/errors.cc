// JS error construction for the binding (see errors.h).
#include "errors.h"

namespace layerwise::binding {

namespace {
Napi::FunctionReference error_class;
}

void set_error_class(Napi::Function ctor) {
  error_class = Napi::Persistent(ctor);
  error_class.SuppressDestruct();
}

void throw_native_error(Napi::Env env, const std::string& code, const std::string& op,
                        const std::string& message) {
  std::string text = op.empty() ? message : op + ": " + message;
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
