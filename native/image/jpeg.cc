// libjpeg-turbo decoding for the image addon: the header (size, colour space, EXIF orientation)
// and a region of the DCT-scaled image as RGB HWC (jpeg_crop_scanline for the columns,
// jpeg_skip_scanlines for the rows above, jpeg_abort_decompress after the last row). The decode
// settings are PIL's (JDCT_ISLOW, fancy upsampling), so the pixels equal PIL's Image.load().
// libjpeg reports errors through error_exit, which longjmps back here: no C++ object with a
// destructor lives in these functions, and all memory comes from libjpeg's pools.
#include "jpeg.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>
#include <jerror.h>

namespace lwimage {
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  bool strict;
  const char* reason;
  int warnings;
  char message[JMSG_LENGTH_MAX];
};

void onError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  err->reason = "corrupt";
  longjmp(err->jump, 1);
}

// Warnings (level < 0): a file cut short (JWRN_JPEG_EOF) fails as 'truncated'; damaged scan data
// is tolerated like PIL unless strict. Trace messages (level >= 0) are dropped.
void onMessage(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  err->warnings++;
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
    (*cinfo->err->format_message)(cinfo, err->message);
    err->reason = "truncated";
    longjmp(err->jump, 1);
  }
  if (err->strict) {
    (*cinfo->err->format_message)(cinfo, err->message);
    err->reason = "corrupt";
    longjmp(err->jump, 1);
  }
}

void initErrors(ErrorManager* err, bool strict) {
  jpeg_std_error(&err->pub);
  err->pub.error_exit = onError;
  err->pub.emit_message = onMessage;
  err->strict = strict;
  err->reason = nullptr;
  err->warnings = 0;
  err->message[0] = 0;
}

unsigned read16(const uint8_t* p, bool le) { return le ? p[0] | (p[1] << 8) : (p[0] << 8) | p[1]; }
unsigned long read32(const uint8_t* p, bool le) {
  return le ? (unsigned long)p[0] | ((unsigned long)p[1] << 8) | ((unsigned long)p[2] << 16) | ((unsigned long)p[3] << 24)
            : ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8) | p[3];
}

// The Orientation tag (0x0112, SHORT) of IFD0 in an APP1 "Exif" segment: 0 when the segment is
// not EXIF or has no such tag, -1 when the EXIF block is not simple (left to the caller).
int exifOrientation(const uint8_t* d, unsigned len) {
  if (len < 6 || std::memcmp(d, "Exif\0\0", 6) != 0) return 0;
  if (len < 14) return -1;
  const uint8_t* t = d + 6;
  unsigned long n = len - 6;
  bool le;
  if (t[0] == 'I' && t[1] == 'I') le = true;
  else if (t[0] == 'M' && t[1] == 'M') le = false;
  else return -1;
  if (read16(t + 2, le) != 42) return -1;
  unsigned long ifd = read32(t + 4, le);
  if (ifd + 2 > n) return -1;
  unsigned count = read16(t + ifd, le);
  for (unsigned i = 0; i < count; i++) {
    unsigned long e = ifd + 2 + 12ul * i;
    if (e + 12 > n) return -1;
    if (read16(t + e, le) != 0x0112) continue;
    if (read16(t + e + 2, le) != 3 || read32(t + e + 4, le) != 1) return -1;
    unsigned v = read16(t + e + 8, le);
    return v >= 1 && v <= 8 ? (int)v : -1;
  }
  return 0;
}

// Whether the file ends with an EOI marker (FF D9, trailing zero padding allowed): a file cut
// short lacks it. A file with other bytes after its EOI is only read to the end (slower, same result).
bool endsWithEoi(const uint8_t* data, size_t size) {
  size_t n = size;
  while (n > 2 && data[n - 1] == 0) n--;
  return n >= 2 && data[n - 2] == 0xFF && data[n - 1] == 0xD9;
}

bool fail(const char** reason, char* message, const char* r, const char* text) {
  *reason = r;
  std::snprintf(message, 200, "%s", text);
  return false;
}

}  // namespace

bool jpegReadInfo(const uint8_t* data, size_t size, JpegInfo* info, const char** reason, char* message) {
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return fail(reason, message, "unsupported", "not a JPEG (no SOI marker)");
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  initErrors(&err, false);
  cinfo.err = &err.pub;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    *reason = err.reason ? err.reason : "corrupt";
    std::snprintf(message, 200, "%s", err.message);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  info->width = (int)cinfo.image_width;
  info->height = (int)cinfo.image_height;
  info->components = cinfo.num_components;
  info->colorSpace = (int)cinfo.jpeg_color_space;
  info->progressive = cinfo.progressive_mode != 0;
  info->orientation = 0;
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1) {
      int o = exifOrientation(m->data, m->data_length);
      if (o) { info->orientation = o; break; }
    }
  }
  jpeg_destroy_decompress(&cinfo);
  return true;
}

bool jpegDecodeRegion(const uint8_t* data, size_t size, const RegionRequest& req, uint8_t* out,
                      RegionResult* result, const char** reason, char* message) {
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return fail(reason, message, "unsupported", "not a JPEG (no SOI marker)");
  if (req.scaleDenom != 1 && req.scaleDenom != 2 && req.scaleDenom != 4 && req.scaleDenom != 8) {
    return fail(reason, message, "invalid", "scaleDenom must be 1, 2, 4 or 8");
  }
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  initErrors(&err, req.strict);
  cinfo.err = &err.pub;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    *reason = err.reason ? err.reason : "corrupt";
    std::snprintf(message, 200, "%s", err.message);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  const J_COLOR_SPACE cs = cinfo.jpeg_color_space;
  const bool gray = cs == JCS_GRAYSCALE && cinfo.num_components == 1;
  const bool colour = (cs == JCS_YCbCr || cs == JCS_RGB) && cinfo.num_components == 3;
  if (!gray && !colour) {
    jpeg_destroy_decompress(&cinfo);
    return fail(reason, message, "unsupported", "only 1- or 3-component (grey, YCbCr, RGB) JPEGs take the fast path");
  }
  cinfo.out_color_space = JCS_RGB;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  cinfo.scale_num = 1;
  cinfo.scale_denom = (unsigned)req.scaleDenom;
  jpeg_calc_output_dimensions(&cinfo);
  const int W = (int)cinfo.output_width, H = (int)cinfo.output_height;
  result->scaledWidth = W;
  result->scaledHeight = H;
  if (req.cropX < 0 || req.cropY < 0 || req.cropW < 1 || req.cropH < 1 || req.cropX + req.cropW > W || req.cropY + req.cropH > H) {
    jpeg_destroy_decompress(&cinfo);
    std::snprintf(message, 200, "crop %d,%d %dx%d is outside the %dx%d image (scale 1/%d)", req.cropX, req.cropY,
                  req.cropW, req.cropH, W, H, req.scaleDenom);
    *reason = "invalid";
    return false;
  }
  jpeg_start_decompress(&cinfo);
  // Widen the decoded columns by one iMCU each side so the fancy upsampler sees the same
  // neighbours as in a full decode; only the requested columns are copied out.
  const int imcu = cinfo.max_h_samp_factor * cinfo.min_DCT_scaled_size;
  JDIMENSION xoff = (JDIMENSION)(req.cropX > imcu ? req.cropX - imcu : 0);
  JDIMENSION xend = (JDIMENSION)(req.cropX + req.cropW + imcu < W ? req.cropX + req.cropW + imcu : W);
  JDIMENSION width = xend - xoff;
  if (xoff != 0 || width != (JDIMENSION)W) jpeg_crop_scanline(&cinfo, &xoff, &width);
  if (req.cropY > 0) jpeg_skip_scanlines(&cinfo, (JDIMENSION)req.cropY);
  JSAMPARRAY row = (*cinfo.mem->alloc_sarray)((j_common_ptr)&cinfo, JPOOL_IMAGE, width * 3, 1);
  const size_t rowBytes = (size_t)req.cropW * 3;
  const size_t from = (size_t)(req.cropX - (int)xoff) * 3;
  for (int y = 0; y < req.cropH; y++) {
    if (jpeg_read_scanlines(&cinfo, row, 1) != 1) {
      jpeg_destroy_decompress(&cinfo);
      return fail(reason, message, "truncated", "the decoder returned no scanline");
    }
    std::memcpy(out + (size_t)y * rowBytes, row[0] + from, rowBytes);
  }
  if (cinfo.output_scanline < cinfo.output_height) {
    // A file without EOI may be cut short below the crop: read on so that libjpeg notices.
    // (Skipping to the very end reads nothing, so skip to the last row and decode that one.)
    if (!endsWithEoi(data, size)) {
      if (cinfo.output_scanline + 1 < cinfo.output_height) {
        jpeg_skip_scanlines(&cinfo, cinfo.output_height - 1 - cinfo.output_scanline);
      }
      jpeg_read_scanlines(&cinfo, row, 1);
    }
  }
  if (cinfo.output_scanline >= cinfo.output_height) jpeg_finish_decompress(&cinfo);
  else jpeg_abort_decompress(&cinfo);
  result->width = req.cropW;
  result->height = req.cropH;
  result->xOffset = (int)xoff;
  result->warnings = err.warnings;
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace lwimage
