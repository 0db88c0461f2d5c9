// Parses native/include/layerwise/kernels.h (and the family headers it includes,
// native/include/layerwise/kernels/<family>.h, in order) into a list of kernels with typed parameters.
// The generator (gen-contract.mjs) and the contract test both use it, so there is one reading
// of the contract. The format rules are stated at the top of kernels.h.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const BUFFER_TYPES = {
  'float*': { dtype: 'f32', elem: 4, mutable: true },
  'const float*': { dtype: 'f32', elem: 4, mutable: false },
  'int32_t*': { dtype: 'i32', elem: 4, mutable: true },
  'const int32_t*': { dtype: 'i32', elem: 4, mutable: false },
  'uint8_t*': { dtype: 'u8', elem: 1, mutable: true },
  'const uint8_t*': { dtype: 'u8', elem: 1, mutable: false },
  // Typed by a DType parameter named in the comment: `// (n) [dtype]`.
  'void*': { dtype: 'generic', elem: null, mutable: true },
  'const void*': { dtype: 'generic', elem: null, mutable: false },
};
const BUFFER_LIST_TYPES = {
  'float* const*': { dtype: 'f32', elem: 4, mutable: true },
  'const float* const*': { dtype: 'f32', elem: 4, mutable: false },
};
const HOST_TYPES = {
  'const void*': { kind: 'hostBytes', mutable: false },
  'void*': { kind: 'hostBytes', mutable: true },
  'const int64_t*': { kind: 'hostArray', cType: 'int64_t' },
  'const double*': { kind: 'hostArray', cType: 'double' },
  'const float*': { kind: 'hostArray', cType: 'float' },
};
const SCALAR_TYPES = ['int64_t', 'double', 'float', 'bool', 'DType'];

/** Splits "(a, (b - 1) * c, d)" into top-level terms; returns null when text has no leading group. */
function parseShape(comment) {
  const text = comment.trim();
  if (!text.startsWith('(')) return null;
  let depth = 0;
  let start = 1;
  const dims = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') {
      depth--;
      if (depth === 0) {
        dims.push(text.slice(start, i).trim());
        return dims.filter((d) => d.length > 0);
      }
    } else if (ch === ',' && depth === 1) {
      dims.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  throw new Error(`kernels.h: unbalanced shape comment "${comment}"`);
}

function classify(type, name, comment, kernel) {
  const shape = parseShape(comment);
  if (name.startsWith('host_')) {
    const host = HOST_TYPES[type];
    if (!host) throw new Error(`kernels.h: ${kernel}: host parameter ${name} has unsupported type ${type}`);
    return { name, type, kind: host.kind, cType: host.cType, mutable: !!host.mutable, shape, comment };
  }
  if (BUFFER_TYPES[type]) {
    // `// (1), or null`: the caller may pass null, and the kernel gets nullptr.
    const optional = /\bor null\b/.test(comment);
    const buffer = { name, type, kind: 'buffer', ...BUFFER_TYPES[type], optional, shape, comment };
    if (buffer.dtype === 'generic' && !kernel.startsWith('device_')) {
      const m = comment.match(/\)\s*\[(\w+)\]/);
      if (!m || !shape) throw new Error(`kernels.h: ${kernel}: ${name} (${type}) needs a shape and its dtype parameter, e.g. // (n) [dtype]`);
      buffer.dtypeParam = m[1];
    }
    return buffer;
  }
  if (BUFFER_LIST_TYPES[type]) {
    const optional = /or none/.test(comment);
    return { name, type, kind: 'bufferList', ...BUFFER_LIST_TYPES[type], optional, shape: null, comment };
  }
  if (SCALAR_TYPES.includes(type)) return { name, type, kind: 'scalar', cType: type, shape: null, comment };
  return { name, type, kind: 'internal', shape: null, comment };
}

/**
 * The text of the contract: kernels.h with each `#include "layerwise/kernels/<family>.h"` replaced
 * by that file's text. `includeDir` is native/include.
 */
export function readContract(includeDir) {
  const main = readFileSync(join(includeDir, 'layerwise', 'kernels.h'), 'utf8');
  return main.replace(/^#include "(layerwise\/kernels\/\w+\.h)"$/gm, (_, rel) => readFileSync(join(includeDir, rel), 'utf8'));
}

/** Parses the text of the contract (readContract). Returns [{name, family, params, internal, doc}]. */
export function parseKernels(source) {
  const kernels = [];
  let family = null;
  let doc = [];
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const section = line.match(/^\/\/ ---- (?:memory \()?(\w+)\.cc/);
    if (section) {
      family = section[1];
      doc = [];
      continue;
    }
    const start = line.match(/^Status (\w+)\(Context& ctx(,?)(.*)$/);
    if (!start) {
      if (line.startsWith('//')) doc.push(line.replace(/^\/\/ ?/, ''));
      else doc = [];
      continue;
    }
    const name = start[1];
    // Gather the declaration's lines up to the closing ");" (its trailing comment included).
    const declLines = [start[3]];
    while (!declLines[declLines.length - 1].includes(');') && i + 1 < lines.length) {
      declLines.push(lines[++i]);
    }
    const params = [];
    for (const declLine of declLines) {
      const commentAt = declLine.indexOf('//');
      const code = (commentAt >= 0 ? declLine.slice(0, commentAt) : declLine).replace(');', '');
      const comment = commentAt >= 0 ? declLine.slice(commentAt + 2).trim() : '';
      const pieces = code.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
      pieces.forEach((piece, index) => {
        const m = piece.match(/^(.*?[\s*])(\w+)$/);
        if (!m) throw new Error(`kernels.h: ${name}: cannot parse parameter "${piece}"`);
        const type = m[1].replace(/\s+/g, ' ').replace(/ \*/g, '*').trim();
        const isLast = index === pieces.length - 1;
        params.push(classify(type, m[2], isLast ? comment : '', name));
      });
    }
    for (const p of params) {
      if (p.dtypeParam && !params.some((q) => q.name === p.dtypeParam && q.type === 'DType')) {
        throw new Error(`kernels.h: ${name}: ${p.name} is typed by [${p.dtypeParam}], which is not a DType parameter`);
      }
    }
    const internal = name.startsWith('device_');
    kernels.push({ name, family, params, internal, doc: doc.join(' ').trim() });
    doc = [];
  }
  return kernels;
}
