// kernels/prelude.h: what every family header of the contract starts from: the element types,
// Status, the backend namespace (layerwise::cpu, layerwise::cuda) and its Context.
#pragma once
#include <cstdint>

#include "layerwise/dtype.h"
#include "layerwise/status.h"

#ifndef LAYERWISE_BACKEND
#define LAYERWISE_BACKEND cpu
#endif

namespace layerwise {
namespace LAYERWISE_BACKEND {

struct Context;  // per-backend execution state: threads on CPU, stream and handles on CUDA

}  // namespace LAYERWISE_BACKEND
}  // namespace layerwise
