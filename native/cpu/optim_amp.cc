// CPU loss-scaling kernel for float16 training: torch.amp.GradScaler's unscale with the found-inf
// check fused in (PyTorch's _amp_foreach_non_finite_check_and_unscale_). One static OpenMP loop
// over the 65,536-element chunks of all tensors (multi_tensor.h); each chunk notes whether it saw
// a non-finite value, and the flag is set once after the loop. inv_scale == 1 only checks: nothing is
// written (the check before sgd_step / adamw_step, which unscale as they read).
#include <cmath>
#include <vector>

#include "cpu/context.h"
#include "cpu/multi_tensor.h"
#include "shared/optim_math.h"

namespace layerwise::cpu {

Status multi_unscale_found_inf(Context& ctx, float* const* grads, float* found_inf, const int64_t* host_numels,
                               int64_t num_tensors, float inv_scale) {
  Chunks chunks;
  LW_RETURN_IF_ERROR(make_chunks("multi_unscale_found_inf", chunks, host_numels, num_tensors));
  const int64_t total = chunks.count();
  int any = 0;
#pragma omp parallel for schedule(static) reduction(| : any) if (total > 1)
  for (int64_t c = 0; c < total; c++) {
    const auto [t, start, len] = chunks.piece(c, host_numels);
    float* g = grads[t] + start;  // (len)
    int bad = 0;
    if (inv_scale == 1.0f) {
#pragma omp simd reduction(| : bad)
      for (int64_t i = 0; i < len; i++) bad |= !std::isfinite(g[i]);
    } else {
#pragma omp simd reduction(| : bad)
      for (int64_t i = 0; i < len; i++) {
        bad |= !std::isfinite(g[i]);
        g[i] = shared::scale_element(g[i], inv_scale);
      }
    }
    any |= bad;
  }
  if (any) found_inf[0] = 1.0f;
  return Status::Ok();
}

}  // namespace layerwise::cpu
