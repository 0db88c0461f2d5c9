// Turning native failures into JS errors: the TS side registers its NativeError class
// (src/errors.ts) at load time; errors thrown here are instances of it with `code` and `op`.
#pragma once
#include <napi.h>

#include <string>

namespace layerwise::binding {

void set_error_class(Napi::Function ctor);
[[noreturn]] void throw_native_error(Napi::Env env, const std::string& code, const std::string& op,
                                     const std::string& message);

}  // namespace layerwise::binding
