// The image addon's C-level JPEG and resampling routines (jpeg.cc, resize.cc), free of N-API so
// the setjmp/longjmp error path of libjpeg never crosses C++ objects with destructors.
#pragma once
#include <cstddef>
#include <cstdint>

namespace lwimage {

struct JpegInfo {
  int width = 0, height = 0, components = 0;
  int colorSpace = 0;   // libjpeg's J_COLOR_SPACE of the file (jpeg_color_space)
  int orientation = 0;  // EXIF orientation 1..8; 0 when absent; -1 when the EXIF block is not simple
  bool progressive = false;
};

struct RegionRequest {
  int scaleDenom = 1;  // 1, 2, 4 or 8 (DCT scaling, scale_num = 1)
  int cropX = 0, cropY = 0, cropW = 0, cropH = 0;  // in scaled output pixels
  bool strict = false;  // libjpeg warnings (corrupt data) fail too
};

struct RegionResult {
  int width = 0, height = 0;  // what was written: cropW x cropH
  int xOffset = 0;            // the iMCU-aligned column libjpeg started decoding at
  int scaledWidth = 0, scaledHeight = 0;
  int warnings = 0;
};

// Both return false with `reason` ('corrupt' | 'truncated' | 'unsupported' | 'invalid') and a
// message in `message` (at least 200 bytes) instead of throwing or aborting.
bool jpegReadInfo(const uint8_t* data, size_t size, JpegInfo* info, const char** reason, char* message);
// Decodes the requested region of the scale-reduced image as RGB HWC into out (cropW * cropH * 3
// bytes, the caller checked the size).
bool jpegDecodeRegion(const uint8_t* data, size_t size, const RegionRequest& req, uint8_t* out,
                      RegionResult* result, const char** reason, char* message);

// PIL's antialiased BILINEAR resample (Pillow Resample.c) of a fullWidth x fullHeight RGB image,
// the source box [x0, x1) x [y0, y1) (fractional, full-image pixels) to dw x dh; writes only the
// output window [ox, ox + ow) x [oy, oy + oh) into out (ow * oh * 3 bytes). src holds only the
// part width x height at (x, y) of the full image, which must cover what the window reads.
// Byte-exact with src/data/image/resize.ts (and with the window cut from the full resize).
struct ResizeBox { double x0, y0, x1, y1; };
struct ResizeSource { int x, y, width, height, fullWidth, fullHeight; };
bool resizeBilinearPil(const uint8_t* src, const ResizeSource& source, ResizeBox box, int dw, int dh,
                       int ox, int oy, int ow, int oh, uint8_t* out, char* message);

}  // namespace lwimage
