// float64 reference of the strided block copy (copy_block): for o < outer the `block` elements
// at o * srcStride + srcOffset of src land at o * dstStride + dstOffset of dst (a copy of dst).
export function copyBlock(dst: ArrayLike<number>, src: ArrayLike<number>, outer: number, block: number,
  srcStride: number, srcOffset: number, dstStride: number, dstOffset: number): Float64Array {
  const out = Float64Array.from(dst);
  for (let o = 0; o < outer; o++) for (let j = 0; j < block; j++) out[o * dstStride + dstOffset + j] = src[o * srcStride + srcOffset + j];
  return out;
}
