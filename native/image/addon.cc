// layerwise_image.node: the image decode workers' native helpers, a separate small addon (no
// static JS references, so it loads in worker threads, where the main addon must not). It wraps
// jpeg.cc (libjpeg-turbo header and region decode) and resize.cc (PIL's bilinear resample).
// Failures throw a JS Error whose `reason` is 'corrupt' | 'truncated' | 'unsupported' | 'invalid'.
#include <napi.h>

#include <string>

#include "jpeg.h"

namespace {

Napi::Error imageError(Napi::Env env, const char* op, const char* reason, const char* message) {
  Napi::Error e = Napi::Error::New(env, std::string(op) + ": " + reason + ": " + message);
  e.Set("reason", Napi::String::New(env, reason));
  return e;
}

Napi::Uint8Array bytesArg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw imageError(info.Env(), op, "invalid", (std::string(name) + " must be a Uint8Array").c_str());
  }
  return info[i].As<Napi::Uint8Array>();
}

int intProp(const Napi::Object& o, const char* key, int dflt, const char* op) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return dflt;
  if (!v.IsNumber()) throw imageError(o.Env(), op, "invalid", (std::string(key) + " must be a number").c_str());
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != (double)(int)d) throw imageError(o.Env(), op, "invalid", (std::string(key) + " must be an integer").c_str());
  return (int)d;
}

double numProp(const Napi::Object& o, const char* key, const char* op) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw imageError(o.Env(), op, "invalid", (std::string(key) + " must be a number").c_str());
  return v.As<Napi::Number>().DoubleValue();
}

Napi::Value JpegInfo(const Napi::CallbackInfo& info) {
  Napi::Uint8Array buf = bytesArg(info, 0, "jpegInfo", "buf");
  lwimage::JpegInfo ji;
  const char* reason = nullptr;
  char message[256];
  if (!lwimage::jpegReadInfo(buf.Data(), buf.ByteLength(), &ji, &reason, message)) {
    throw imageError(info.Env(), "jpegInfo", reason, message);
  }
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("width", ji.width);
  o.Set("height", ji.height);
  o.Set("components", ji.components);
  static const char* names[] = {"unknown", "grayscale", "rgb", "ycbcr", "cmyk", "ycck"};
  o.Set("colorSpace", ji.colorSpace >= 0 && ji.colorSpace <= 5 ? names[ji.colorSpace] : "unknown");
  o.Set("progressive", ji.progressive);
  if (ji.orientation) o.Set("orientation", ji.orientation);
  return o;
}

// decodeJpegRegion(buf, {scaleDenom, cropX, cropY, cropW, cropH, strict}, out)
Napi::Value DecodeJpegRegion(const Napi::CallbackInfo& info) {
  const char* op = "decodeJpegRegion";
  Napi::Uint8Array buf = bytesArg(info, 0, op, "buf");
  if (info.Length() < 2 || !info[1].IsObject()) throw imageError(info.Env(), op, "invalid", "options must be an object");
  Napi::Object opts = info[1].As<Napi::Object>();
  Napi::Uint8Array out = bytesArg(info, 2, op, "out");
  lwimage::RegionRequest req;
  req.scaleDenom = intProp(opts, "scaleDenom", 1, op);
  req.cropX = intProp(opts, "cropX", 0, op);
  req.cropY = intProp(opts, "cropY", 0, op);
  req.cropW = intProp(opts, "cropW", 0, op);
  req.cropH = intProp(opts, "cropH", 0, op);
  req.strict = opts.Get("strict").ToBoolean().Value();
  if (req.cropW > 0 && req.cropH > 0 && out.ByteLength() < (size_t)req.cropW * req.cropH * 3) {
    throw imageError(info.Env(), op, "invalid", ("out holds " + std::to_string(out.ByteLength()) + " bytes, the crop needs " +
                                                std::to_string((size_t)req.cropW * req.cropH * 3)).c_str());
  }
  lwimage::RegionResult r;
  const char* reason = nullptr;
  char message[256];
  if (!lwimage::jpegDecodeRegion(buf.Data(), buf.ByteLength(), req, out.Data(), &r, &reason, message)) {
    throw imageError(info.Env(), op, reason, message);
  }
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("width", r.width);
  o.Set("height", r.height);
  o.Set("xOffset", r.xOffset);
  o.Set("scaledWidth", r.scaledWidth);
  o.Set("scaledHeight", r.scaledHeight);
  o.Set("warnings", r.warnings);
  return o;
}

// resizeBilinearPil(src, w, h, {x0, y0, x1, y1}, outW, outH, out, window?, source?): src is w x h;
// window {x, y, width, height} of the output (default all); source {x, y, width, height}: src is
// that part of a width x height image (default: src is the whole image).
Napi::Value ResizeBilinearPil(const Napi::CallbackInfo& info) {
  const char* op = "resizeBilinearPil";
  Napi::Env env = info.Env();
  Napi::Uint8Array src = bytesArg(info, 0, op, "src");
  if (info.Length() < 7 || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsObject() || !info[4].IsNumber() ||
      !info[5].IsNumber()) {
    throw imageError(env, op, "invalid", "expected (src, w, h, box, outW, outH, out, window?)");
  }
  const int w = info[1].As<Napi::Number>().Int32Value(), h = info[2].As<Napi::Number>().Int32Value();
  Napi::Object b = info[3].As<Napi::Object>();
  lwimage::ResizeBox box{numProp(b, "x0", op), numProp(b, "y0", op), numProp(b, "x1", op), numProp(b, "y1", op)};
  const int dw = info[4].As<Napi::Number>().Int32Value(), dh = info[5].As<Napi::Number>().Int32Value();
  Napi::Uint8Array out = bytesArg(info, 6, op, "out");
  int ox = 0, oy = 0, ow = dw, oh = dh;
  if (info.Length() > 7 && !info[7].IsUndefined()) {
    if (!info[7].IsObject()) throw imageError(env, op, "invalid", "window must be an object");
    Napi::Object win = info[7].As<Napi::Object>();
    ox = intProp(win, "x", 0, op);
    oy = intProp(win, "y", 0, op);
    ow = intProp(win, "width", dw, op);
    oh = intProp(win, "height", dh, op);
  }
  lwimage::ResizeSource source{0, 0, w, h, w, h};
  if (info.Length() > 8 && !info[8].IsUndefined()) {
    if (!info[8].IsObject()) throw imageError(env, op, "invalid", "source must be an object");
    Napi::Object so = info[8].As<Napi::Object>();
    source.x = intProp(so, "x", 0, op);
    source.y = intProp(so, "y", 0, op);
    source.fullWidth = intProp(so, "width", w, op);
    source.fullHeight = intProp(so, "height", h, op);
  }
  if (w < 1 || h < 1 || src.ByteLength() < (size_t)w * h * 3) {
    throw imageError(env, op, "invalid", ("src holds " + std::to_string(src.ByteLength()) + " bytes, not " + std::to_string(w) +
                                          "x" + std::to_string(h) + "x3").c_str());
  }
  if (ow < 1 || oh < 1 || out.ByteLength() < (size_t)ow * oh * 3) {
    throw imageError(env, op, "invalid", ("out holds " + std::to_string(out.ByteLength()) + " bytes, the window needs " +
                                          std::to_string((size_t)(ow > 0 ? ow : 0) * (oh > 0 ? oh : 0) * 3)).c_str());
  }
  char message[256];
  if (!lwimage::resizeBilinearPil(src.Data(), source, box, dw, dh, ox, oy, ow, oh, out.Data(), message)) {
    throw imageError(env, op, "invalid", message);
  }
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("jpegInfo", Napi::Function::New(env, JpegInfo, "jpegInfo"));
  exports.Set("decodeJpegRegion", Napi::Function::New(env, DecodeJpegRegion, "decodeJpegRegion"));
  exports.Set("resizeBilinearPil", Napi::Function::New(env, ResizeBilinearPil, "resizeBilinearPil"));
  return exports;
}

}  // namespace

NODE_API_MODULE(layerwise_image, Init)
