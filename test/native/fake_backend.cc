// A stand-in for a separately compiled backend library built from another contract: it exports
// the CUDA entry point and hands out a kernel table whose ABI version (or contract hash) differs
// from the core addon's. test/native/abi.test.ts compiles it and checks that the binding refuses
// it with a message naming both versions. FAKE_ABI_SHIFT / FAKE_HASH select the mismatch.
#include <cstring>

#include "generated/kernel_table.h"

#ifndef FAKE_ABI_SHIFT
#define FAKE_ABI_SHIFT 1
#endif
#ifndef FAKE_HASH
#define FAKE_HASH "0123456789abcdef"
#endif

extern "C" int layerwise_cuda_backend(void** ctx, const layerwise::KernelTable** table, char* error, int error_len) {
  static layerwise::KernelTable fake{};
  fake.abi_version = layerwise::kAbiVersion + FAKE_ABI_SHIFT;
  std::strncpy(fake.contract_hash, FAKE_HASH, sizeof(fake.contract_hash) - 1);
  *ctx = nullptr;
  *table = &fake;
  if (error_len > 0) error[0] = '\0';
  return 0;
}
