// The CUDA backend's kernel table: one function pointer per kernel of kernels.h, filled by the
// generated kernel_table_fill.inc (as native/cpu/table.cc does for the CPU backend). It links only
// when every kernel of the contract is defined in native/cuda; layerwise_cuda_backend (context.cu)
// hands it to the binding with the context.
#include "cuda/context.h"
#include "generated/kernel_table.h"

namespace layerwise::cuda {

namespace {
KernelTable make_table() {
  KernelTable table{};
#include "generated/kernel_table_fill.inc"
  return table;
}
}  // namespace

const KernelTable* kernel_table() {
  static const KernelTable table = make_table();
  return &table;
}

}  // namespace layerwise::cuda
