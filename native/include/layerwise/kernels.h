// kernels.h: THE contract between TypeScript and the native backends.
//
// The kernels are declared one family per header in layerwise/kernels/<family>.h (included below,
// in order); this file holds the conventions they all follow.
//
// Every kernel below is implemented by each backend under the same name, in the file of its family
// (native/cpu/<family>.cc, native/cuda/<family>.cu), inside namespace layerwise::<backend>.
// scripts/gen-contract.mjs parses this file and generates the N-API glue
// (native/binding/generated/), the kernel table each backend fills, and the TypeScript mirror
// (src/native/kernels.generated.ts); test/contract.test.ts fails when they disagree.
//
// Conventions (the generator relies on them):
//   * Outputs first, then inputs, then sizes and options.
//   * Device pointers carry a shape comment `// (d0, d1, ...)`: the binding checks, before the
//     call, that the buffer holds at least d0*d1*... elements of the pointer's type.
//   * `float* const*` / `const float* const*` are arrays of device buffers (multi-tensor kernels).
//   * Parameters named host_* are host arrays (JS arrays or typed arrays), not device memory.
//   * `void*` buffers are typed by a DType parameter named after the shape: `// (n) [dtype]`; the
//     binding checks their size in elements of that dtype. `float*` buffers are always float32
//     (statistics, master weights, gradients of parameters, losses). Kernels compute in float
//     whatever the storage type (layerwise/dtype.h) and return kNotImplemented for a dtype they
//     do not support.
//   * Tensors are dense and row-major in their memory format: contiguous (NCHW for images) or,
//     where a kernel takes `channels_last`, NHWC. Strides only where a kernel names them. No shape
//     inference: TypeScript resolves every size and passes plain integers.
//   * Outputs are overwritten, never accumulated into, unless a comment says otherwise.
//   * Every kernel returns a Status; none aborts, throws or exits.
#pragma once
#include "layerwise/kernels/copy.h"
#include "layerwise/kernels/matmul.h"
#include "layerwise/kernels/conv2d.h"
#include "layerwise/kernels/elementwise.h"
#include "layerwise/kernels/activation.h"
#include "layerwise/kernels/norm.h"
#include "layerwise/kernels/pool.h"
#include "layerwise/kernels/loss.h"
#include "layerwise/kernels/reduce.h"
#include "layerwise/kernels/window.h"
#include "layerwise/kernels/optim.h"
