// Derivation of independent 32-bit seeds from tuples such as (seed, epoch, stream, batch), so
// that any epoch's order and any batch's augmentation can be recomputed on their own (resume
// mid-epoch without replaying the earlier batches). The mixing is MurmurHash3's fmix32 finalizer
// applied after folding in each part (public domain, Austin Appleby).

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A well-mixed unsigned 32-bit seed from integer parts (each taken modulo 2^32). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = fmix32(((h ^ fmix32(p >>> 0)) + 0x7f4a7c15) >>> 0);
  return h;
}
