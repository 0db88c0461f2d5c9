// Conv2d through im2col / col2im and OpenBLAS sgemm: the portable path, used when oneDNN is
// absent, when LAYERWISE_CONV=im2col, and for shapes oneDNN does not implement.
//
// For one image and group, im2col lays the input patches out as col (patch, out_h * out_w) with
// patch = (in_channels / groups) * kernel_h * kernel_w, so that
//   forward          y_g  (out/g, P)     = w_g (out/g, patch) @ col (patch, P)
//   backward input   dcol (patch, P)     = w_g^T @ dy_g (out/g, P), then col2im adds into dx
//   backward weight  dw_g (out/g, patch) = sum over images of dy_g @ col^T
// (P = out_h * out_w). Small images are processed in chunks of several images side by side
// (col is (patch, chunk * P)) so that each GEMM is wide enough to run near peak.
// Threads: with enough images, OpenMP splits the batch and each thread runs single-threaded
// sgemm on its own scratch (the OpenMP build of OpenBLAS stays serial inside a parallel region);
// otherwise images run one after another and OpenBLAS uses all threads.
// Reference: Chellapilla et al., "High Performance Convolutional Neural Networks for Document
// Processing" (2006), the im2col formulation; Caffe's im2col_cpu / col2im_cpu.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/conv2d.h"

namespace layerwise::cpu {

namespace {

// A chunk aims at this many GEMM columns; more only grows scratch past the L2 cache.
constexpr int64_t kTargetColumns = 512;
// Beyond this, chunking stops adding images (an image's own col can still be larger).
constexpr int64_t kMaxChunkFloats = int64_t{1} << 20;

// Scratch of the calling thread, kept between calls: OpenMP's pool threads persist, so steady
// training allocates nothing here. Grows to the largest chunk seen.
float* scratch(int slot, int64_t floats) {
  thread_local std::vector<float> buffers[3];
  std::vector<float>& b = buffers[slot];
  if (static_cast<int64_t>(b.size()) < floats) b.resize(static_cast<size_t>(floats));
  return b.data();
}

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// For kernel column j: the output columns [lo, hi) whose input column lies inside the image.
void valid_columns(const ConvShape& s, int64_t j, int64_t* lo, int64_t* hi) {
  int64_t offset = j * s.dilation_w - s.pad_w;  // input column of output column 0
  *lo = std::clamp<int64_t>(ceil_div(-offset, s.stride_w), 0, s.out_w);
  *hi = std::clamp<int64_t>(ceil_div(s.in_w - offset, s.stride_w), *lo, s.out_w);
}

// col[(c * kh + i) * kw + j][oh * out_w + ow] = x[c][oh*sh - ph + i*dh][ow*sw - pw + j*dw], 0 in
// the padding. x: (in/g, in_h, in_w) of one image and group; col rows have stride ld.
void im2col(const ConvShape& s, const float* x, float* col, int64_t ld) {
  const int64_t cig = s.in_per_group(), ow_n = s.out_w;
  for (int64_t c = 0; c < cig; c++)
    for (int64_t i = 0; i < s.kernel_h; i++)
      for (int64_t j = 0; j < s.kernel_w; j++) {
        float* row = col + ((c * s.kernel_h + i) * s.kernel_w + j) * ld;
        int64_t lo, hi;
        valid_columns(s, j, &lo, &hi);
        const int64_t col0 = j * s.dilation_w - s.pad_w;
        for (int64_t oh = 0; oh < s.out_h; oh++) {
          float* r = row + oh * ow_n;
          const int64_t ih = oh * s.stride_h - s.pad_h + i * s.dilation_h;
          if (ih < 0 || ih >= s.in_h) {
            std::memset(r, 0, sizeof(float) * ow_n);
            continue;
          }
          const float* xr = x + (c * s.in_h + ih) * s.in_w;  // input row ih; column ow reads col0 + ow*sw
          for (int64_t ow = 0; ow < lo; ow++) r[ow] = 0.0f;
          if (s.stride_w == 1) {
            std::memcpy(r + lo, xr + col0 + lo, sizeof(float) * (hi - lo));
          } else {
            for (int64_t ow = lo; ow < hi; ow++) r[ow] = xr[col0 + ow * s.stride_w];
          }
          for (int64_t ow = hi; ow < ow_n; ow++) r[ow] = 0.0f;
        }
      }
}

// The adjoint of im2col: dx[c][ih][iw] += col[...] for every patch element inside the image.
// dx: (in/g, in_h, in_w) of one image and group, zeroed by the caller.
void col2im(const ConvShape& s, const float* col, int64_t ld, float* dx) {
  const int64_t cig = s.in_per_group(), ow_n = s.out_w;
  for (int64_t c = 0; c < cig; c++)
    for (int64_t i = 0; i < s.kernel_h; i++)
      for (int64_t j = 0; j < s.kernel_w; j++) {
        const float* row = col + ((c * s.kernel_h + i) * s.kernel_w + j) * ld;
        int64_t lo, hi;
        valid_columns(s, j, &lo, &hi);
        const int64_t col0 = j * s.dilation_w - s.pad_w;
        for (int64_t oh = 0; oh < s.out_h; oh++) {
          const int64_t ih = oh * s.stride_h - s.pad_h + i * s.dilation_h;
          if (ih < 0 || ih >= s.in_h) continue;
          const float* r = row + oh * ow_n;
          float* dr = dx + (c * s.in_h + ih) * s.in_w + col0 + lo * s.stride_w;  // column lo's input
          if (s.stride_w == 1) {
            for (int64_t ow = lo; ow < hi; ow++) dr[ow - lo] += r[ow];
          } else {
            for (int64_t ow = lo; ow < hi; ow++) dr[(ow - lo) * s.stride_w] += r[ow];
          }
        }
      }
}

// A 1x1, stride 1, unpadded convolution needs no im2col: col is the input itself.
bool pointwise(const ConvShape& s) {
  return s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_h == 0 &&
         s.pad_w == 0;
}

// How the batch is spread: `threads` OpenMP threads each take a contiguous range of images and
// walk it in chunks of `chunk` images; threads == 1 leaves the threading to OpenBLAS.
struct Plan {
  int threads;
  int64_t chunk;
};

Plan plan(const ConvShape& s) {
  const int max_threads = omp_get_max_threads();
  const int64_t flops_per_image = s.out_channels * s.patch() * s.out_plane();
  const bool split_batch = max_threads > 1 && s.batch >= max_threads &&
                           (s.batch >= 4 * max_threads || flops_per_image < (int64_t{1} << 22));
  Plan p{split_batch ? max_threads : 1, 1};
  if (!pointwise(s)) {
    const int64_t per_thread = (s.batch + p.threads - 1) / p.threads;
    const int64_t by_width = (kTargetColumns + s.out_plane() - 1) / s.out_plane();
    const int64_t by_memory = std::max<int64_t>(1, kMaxChunkFloats / (s.patch() * s.out_plane()));
    p.chunk = std::max<int64_t>(1, std::min({per_thread, by_width, by_memory}));
  }
  return p;
}

// The images [begin, end) of thread `t` of `threads`.
void thread_range(int64_t batch, int t, int threads, int64_t* begin, int64_t* end) {
  *begin = batch * t / threads;
  *end = batch * (t + 1) / threads;
}

void sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

}  // namespace

Status conv2d_im2col_forward(const ConvShape& s, float* y, const float* x, const float* w) {
  const int64_t cig = s.in_per_group(), cog = s.out_per_group(), K = s.patch(), P = s.out_plane();
  const Plan pl = plan(s);
#pragma omp parallel num_threads(pl.threads) if (pl.threads > 1)
  {
    int64_t begin, end;
    thread_range(s.batch, omp_get_thread_num(), omp_get_num_threads(), &begin, &end);
    for (int64_t b0 = begin; b0 < end; b0 += pl.chunk) {
      const int64_t nb = std::min(pl.chunk, end - b0), ld = nb * P;
      for (int64_t g = 0; g < s.groups; g++) {
        const float* wg = w + g * cog * K;  // (out/g, patch)
        if (nb == 1) {
          const float* xg = x + (b0 * s.in_channels + g * cig) * s.in_plane();  // (in/g, in_h, in_w)
          const float* col = xg;
          if (!pointwise(s)) {
            float* c = scratch(0, K * P);  // (patch, P)
            im2col(s, xg, c, P);
            col = c;
          }
          sgemm(false, false, cog, P, K, wg, K, col, P, 0.0f, y + (b0 * s.out_channels + g * cog) * P, P);
          continue;
        }
        float* col = scratch(0, K * ld);  // (patch, nb * P)
        float* out = scratch(1, cog * ld);  // (out/g, nb * P)
        for (int64_t bi = 0; bi < nb; bi++)
          im2col(s, x + ((b0 + bi) * s.in_channels + g * cig) * s.in_plane(), col + bi * P, ld);
        sgemm(false, false, cog, ld, K, wg, K, col, ld, 0.0f, out, ld);
        for (int64_t bi = 0; bi < nb; bi++)
          for (int64_t co = 0; co < cog; co++)
            std::memcpy(y + ((b0 + bi) * s.out_channels + g * cog + co) * P, out + co * ld + bi * P,
                        sizeof(float) * P);
      }
    }
  }
  return Status::Ok();
}

Status conv2d_im2col_backward_input(const ConvShape& s, float* dx, const float* dy, const float* w) {
  const int64_t cig = s.in_per_group(), cog = s.out_per_group(), K = s.patch(), P = s.out_plane();
  const Plan pl = plan(s);
#pragma omp parallel num_threads(pl.threads) if (pl.threads > 1)
  {
    int64_t begin, end;
    thread_range(s.batch, omp_get_thread_num(), omp_get_num_threads(), &begin, &end);
    for (int64_t b0 = begin; b0 < end; b0 += pl.chunk) {
      const int64_t nb = std::min(pl.chunk, end - b0), ld = nb * P;
      for (int64_t g = 0; g < s.groups; g++) {
        const float* wg = w + g * cog * K;  // (out/g, patch)
        float* dxg = dx + (b0 * s.in_channels + g * cig) * s.in_plane();  // (in/g, in_h, in_w)
        if (nb == 1 && pointwise(s)) {
          sgemm(true, false, K, P, cog, wg, K, dy + (b0 * s.out_channels + g * cog) * P, P, 0.0f, dxg, P);
          continue;
        }
        const float* dyg = dy + (b0 * s.out_channels + g * cog) * P;  // (out/g, P) when nb == 1
        if (nb > 1) {
          float* gathered = scratch(1, cog * ld);  // (out/g, nb * P)
          for (int64_t bi = 0; bi < nb; bi++)
            for (int64_t co = 0; co < cog; co++)
              std::memcpy(gathered + co * ld + bi * P, dy + ((b0 + bi) * s.out_channels + g * cog + co) * P,
                          sizeof(float) * P);
          dyg = gathered;
        }
        float* dcol = scratch(0, K * ld);  // (patch, nb * P)
        sgemm(true, false, K, ld, cog, wg, K, dyg, ld, 0.0f, dcol, ld);
        for (int64_t bi = 0; bi < nb; bi++) {
          float* dxi = dx + ((b0 + bi) * s.in_channels + g * cig) * s.in_plane();
          std::memset(dxi, 0, sizeof(float) * cig * s.in_plane());
          col2im(s, dcol + bi * P, ld, dxi);
        }
      }
    }
  }
  return Status::Ok();
}

Status conv2d_im2col_backward_weight(const ConvShape& s, float* dw, const float* dy, const float* x) {
  const int64_t cig = s.in_per_group(), cog = s.out_per_group(), K = s.patch(), P = s.out_plane();
  const int64_t dw_size = s.out_channels * K;  // (out, in/g, kh, kw)
  const Plan pl = plan(s);
  // Each thread sums its images into its own partial dw; partials[0] is dw itself.
  std::vector<float*> partials(pl.threads, nullptr);
  int used = 1;  // threads OpenMP actually gave the region
#pragma omp parallel num_threads(pl.threads) if (pl.threads > 1)
  {
    const int t = omp_get_thread_num();
    float* acc = t == 0 ? dw : scratch(2, dw_size);
    partials[t] = acc;
    if (t == 0) used = omp_get_num_threads();
    std::memset(acc, 0, sizeof(float) * dw_size);
    int64_t begin, end;
    thread_range(s.batch, t, omp_get_num_threads(), &begin, &end);
    for (int64_t b0 = begin; b0 < end; b0 += pl.chunk) {
      const int64_t nb = std::min(pl.chunk, end - b0), ld = nb * P;
      for (int64_t g = 0; g < s.groups; g++) {
        float* dwg = acc + g * cog * K;  // (out/g, patch)
        const float* dyg = dy + (b0 * s.out_channels + g * cog) * P;  // (out/g, P) when nb == 1
        const float* col = x + (b0 * s.in_channels + g * cig) * s.in_plane();
        if (nb > 1) {
          float* gathered = scratch(1, cog * ld);  // (out/g, nb * P)
          for (int64_t bi = 0; bi < nb; bi++)
            for (int64_t co = 0; co < cog; co++)
              std::memcpy(gathered + co * ld + bi * P, dy + ((b0 + bi) * s.out_channels + g * cog + co) * P,
                          sizeof(float) * P);
          dyg = gathered;
        }
        if (nb > 1 || !pointwise(s)) {
          float* c = scratch(0, K * ld);  // (patch, nb * P)
          for (int64_t bi = 0; bi < nb; bi++)
            im2col(s, x + ((b0 + bi) * s.in_channels + g * cig) * s.in_plane(), c + bi * P, ld);
          col = c;
        }
        sgemm(false, true, cog, K, ld, dyg, ld, col, ld, 1.0f, dwg, K);
      }
    }
  }
  if (used > 1) {
#pragma omp parallel for num_threads(used) if (dw_size > 16384)
    for (int64_t i = 0; i < dw_size; i++) {
      float sum = dw[i];
      for (int t = 1; t < used; t++) sum += partials[t][i];
      dw[i] = sum;
    }
  }
  return Status::Ok();
}

}  // namespace layerwise::cpu
