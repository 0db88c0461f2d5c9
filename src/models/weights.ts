// Weight exchange with timm / torchvision: a per-model pair of name mappings between our state
// dict and theirs, and loading / exporting through them. For the CNNs the mapping is the
// identity (our modules carry torchvision's names: `layer1.0.downsample.0.weight`, BN's
// `num_batches_tracked`, stored as I64 like PyTorch); ViT/Swin will split timm's fused
// `qkv.weight` into q, k, v in importState and fuse them again in exportState.
import { noGrad } from '../autograd/tape';
import { cat, narrow } from '../autograd/ops/concat';
import { StateDictError } from '../errors';
import { keep } from '../memory';
import type { Module } from '../nn/module';
import type { Tensor } from '../tensor';

export type StateMap = ReadonlyMap<string, Tensor>;

export interface StateMapping {
  /** A timm/torchvision state dict -> ours. New tensors it creates are owned by the caller of loadExternalState. */
  importState(state: StateMap): Map<string, Tensor>;
  /** Our state dict -> timm/torchvision's. */
  exportState(state: StateMap): Map<string, Tensor>;
}

export const IDENTITY_MAPPING: StateMapping = Object.freeze({
  importState: (state: StateMap) => new Map(state),
  exportState: (state: StateMap) => new Map(state),
});

export type ExportFormat = 'timm' | 'layerwise';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['timm', 'layerwise'];

/**
 * Loads a state dict in timm/torchvision form (or ours: the mapping leaves our names as they
 * are) into `model`, strictly. A mismatch is one StateDictError that first counts the keys the
 * file has and the model lacks (and the reverse), then lists each (PyTorch's wording).
 */
export function loadExternalState(model: Module, state: StateMap, mapping: StateMapping = IDENTITY_MAPPING): void {
  const mapped = mapping.importState(state);
  try {
    model.loadStateDict(mapped);
  } catch (e) {
    if (!(e instanceof StateDictError)) throw e;
    const own = new Set(model.stateDict().keys());
    const extra = [...mapped.keys()].filter((k) => !own.has(k));
    const missing = [...own].filter((k) => !mapped.has(k));
    const hints: string[] = [];
    if (extra.length > 0) hints.push(`${extra.length} key(s) in the file that ${model.constructor.name} does not have (e.g. ${extra.slice(0, 3).join(', ')})`);
    if (missing.length > 0) hints.push(`${missing.length} of the model's key(s) missing from the file (e.g. ${missing.slice(0, 3).join(', ')})`);
    if (extra.some((k) => k.startsWith('module.'))) hints.push("keys start with 'module.' (a DataParallel checkpoint): strip that prefix");
    if (hints.length > 0) e.message = `${hints.join('; ')}\n${e.message}`;
    throw e;
  } finally {
    for (const [k, t] of mapped) if (state.get(k) !== t) t.dispose();
  }
}

/** The state dict to write for `format`: ours (a model's stateDict()) as is, or mapped to timm/torchvision's names. */
export function exportStateDict(state: StateMap, format: ExportFormat, mapping: StateMapping = IDENTITY_MAPPING): Map<string, Tensor> {
  return format === 'layerwise' ? new Map(state) : mapping.exportState(state);
}

const QKV = /^(.*)\.qkv\.(weight|bias)$/;
const QKV_PART = /^(.*)\.([qkv])\.(weight|bias)$/;

/**
 * timm's attention keeps query, key and value in one `qkv` projection ((3*dim, dim) weight,
 * (3*dim) bias, in that order); ours has separate `q`, `k`, `v` (the paper's eta is per tensor).
 * importState splits every `<prefix>.qkv.weight|bias` into three, exportState fuses them back;
 * every other key passes through. Both copy (noGrad): the caller owns the new tensors.
 */
export const QKV_SPLIT_MAPPING: StateMapping = Object.freeze({
  importState(state: StateMap): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    noGrad(() => {
      for (const [key, t] of state) {
        const m = key.match(QKV);
        if (!m) {
          out.set(key, t);
          continue;
        }
        if (t.shape[0] % 3 !== 0) throw new StateDictError(`${key}: shape [${t.shape.join(', ')}] is not three stacked projections`, [key]);
        const d = t.shape[0] / 3;
        ['q', 'k', 'v'].forEach((part, i) => out.set(`${m[1]}.${part}.${m[2]}`, keep(narrow(t, 0, i * d, d).clone())));
      }
    });
    return out;
  },
  exportState(state: StateMap): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    noGrad(() => {
      for (const [key, t] of state) {
        const m = key.match(QKV_PART);
        if (!m) {
          out.set(key, t);
          continue;
        }
        if (m[2] !== 'q') continue;  // k and v join q's entry
        const parts = ['q', 'k', 'v'].map((p) => state.get(`${m[1]}.${p}.${m[3]}`));
        if (parts.some((p) => p === undefined)) throw new StateDictError(`${key}: its k or v partner is missing, cannot fuse ${m[1]}.qkv.${m[3]}`, [key]);
        out.set(`${m[1]}.qkv.${m[3]}`, keep(cat(parts as Tensor[], 0)));
      }
    });
    return out;
  },
});
