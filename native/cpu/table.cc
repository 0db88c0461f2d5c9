// The CPU backend's kernel table and context (see native/binding/backend.h).
#include "cpu/context.h"

#include <omp.h>

#include "generated/kernel_table.h"

namespace layerwise::cpu {

namespace {
KernelTable make_table() {
  KernelTable table{};
#include "generated/kernel_table_fill.inc"
  return table;
}
}  // namespace

void* create_context() {
  static Context context;
  return &context;
}

const KernelTable* kernel_table() {
  static const KernelTable table = make_table();
  return &table;
}

std::string describe(std::initializer_list<std::pair<const char*, int64_t>> values) {
  std::string out;
  for (const auto& [name, value] : values) {
    if (!out.empty()) out += ", ";
    out += std::string(name) + "=" + std::to_string(value);
  }
  return out;
}

Status check_sizes(const char* op, std::initializer_list<std::pair<const char*, int64_t>> values,
                   bool allow_zero) {
  for (const auto& [name, value] : values) {
    if (value < 0 || (!allow_zero && value == 0)) {
      return Status::Invalid(op, std::string(name) + " must be " + (allow_zero ? "non-negative" : "positive") +
                                     " (" + describe(values) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace layerwise::cpu
