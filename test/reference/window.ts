// Float64 references for the window kernels (native/cpu/window.cc), written as timm composes them:
// torch.roll as its own step, then window_partition as view + permute(0, 1, 3, 2, 4, 5); the
// relative position bias as the gather table[index] then permute(2, 0, 1); its backward as the
// scatter-add; the mask add as a broadcast over (B, nW, heads, n, n).

export interface WindowShape {
  batch: number;
  h: number;
  w: number;
  c: number;
  ws: number;
}

/** torch.roll(x, (sh, sw), dims=(1, 2)) of a (B, H, W, C) map: out[b, (i + sh) mod H, (j + sw) mod W] = x[b, i, j]. */
export function roll(x: ArrayLike<number>, s: WindowShape, sh: number, sw: number): Float64Array {
  const { batch, h, w, c } = s;
  const out = new Float64Array(batch * h * w * c);
  const mod = (a: number, m: number): number => ((a % m) + m) % m;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const dst = ((b * h + mod(i + sh, h)) * w + mod(j + sw, w)) * c;
        const src = ((b * h + i) * w + j) * c;
        for (let k = 0; k < c; k++) out[dst + k] = x[src + k];
      }
    }
  }
  return out;
}

/** Index of (b, wh, r, ww, q, k) in the 6-d view (B, H/ws, ws, W/ws, ws, C) of the token map. */
function mapIndex(s: WindowShape, b: number, wh: number, r: number, ww: number, q: number, k: number): number {
  const [nh, nw] = [s.h / s.ws, s.w / s.ws];
  return ((((b * nh + wh) * s.ws + r) * nw + ww) * s.ws + q) * s.c + k;
}

/** timm's window_partition: view (B, nh, ws, nw, ws, C), permute (0, 1, 3, 2, 4, 5) -> (B*nW, ws*ws, C). */
export function windowPartition(x: ArrayLike<number>, s: WindowShape): Float64Array {
  const [nh, nw] = [s.h / s.ws, s.w / s.ws];
  const out = new Float64Array(s.batch * s.h * s.w * s.c);
  let o = 0;
  for (let b = 0; b < s.batch; b++)
    for (let wh = 0; wh < nh; wh++)
      for (let ww = 0; ww < nw; ww++)
        for (let r = 0; r < s.ws; r++) for (let q = 0; q < s.ws; q++) for (let k = 0; k < s.c; k++) out[o++] = x[mapIndex(s, b, wh, r, ww, q, k)];
  return out;
}

/** timm's window_reverse: the inverse of windowPartition. */
export function windowReverse(windows: ArrayLike<number>, s: WindowShape): Float64Array {
  const [nh, nw] = [s.h / s.ws, s.w / s.ws];
  const out = new Float64Array(s.batch * s.h * s.w * s.c);
  let o = 0;
  for (let b = 0; b < s.batch; b++)
    for (let wh = 0; wh < nh; wh++)
      for (let ww = 0; ww < nw; ww++)
        for (let r = 0; r < s.ws; r++) for (let q = 0; q < s.ws; q++) for (let k = 0; k < s.c; k++) out[mapIndex(s, b, wh, r, ww, q, k)] = windows[o++];
  return out;
}

/** The shifted partition: windowPartition(roll(x, -shift, -shift)). */
export function shiftedPartition(x: ArrayLike<number>, s: WindowShape, shift: number): Float64Array {
  return windowPartition(roll(x, s, -shift, -shift), s);
}

/** The shifted reverse: roll(windowReverse(windows), +shift, +shift). */
export function shiftedReverse(windows: ArrayLike<number>, s: WindowShape, shift: number): Float64Array {
  return roll(windowReverse(windows, s), s, shift, shift);
}

/** y[hd, k] = table[index[k], hd] for k < n*n: (heads, n, n). */
export function relativePositionBias(table: ArrayLike<number>, index: ArrayLike<number>, heads: number, nn: number): Float64Array {
  const gathered = new Float64Array(nn * heads); // (n*n, heads), timm's table[index.view(-1)]
  for (let k = 0; k < nn; k++) for (let hd = 0; hd < heads; hd++) gathered[k * heads + hd] = table[index[k] * heads + hd];
  const out = new Float64Array(heads * nn); // permute(2, 0, 1)
  for (let hd = 0; hd < heads; hd++) for (let k = 0; k < nn; k++) out[hd * nn + k] = gathered[k * heads + hd];
  return out;
}

/** dtable (num_rel, heads): the scatter-add of dy (heads, n, n) through index. */
export function relativePositionBiasBackward(dy: ArrayLike<number>, index: ArrayLike<number>, heads: number, nn: number, numRel: number): Float64Array {
  const out = new Float64Array(numRel * heads);
  for (let k = 0; k < nn; k++) for (let hd = 0; hd < heads; hd++) out[index[k] * heads + hd] += dy[hd * nn + k];
  return out;
}

/** x (B*nW, heads, n*n) + mask (nW, n*n) broadcast over the batch and the heads. */
export function windowMaskAdd(x: ArrayLike<number>, mask: ArrayLike<number>, batch: number, nW: number, heads: number, nn: number): Float64Array {
  const out = new Float64Array(batch * nW * heads * nn);
  for (let b = 0; b < batch; b++)
    for (let w = 0; w < nW; w++)
      for (let hd = 0; hd < heads; hd++)
        for (let k = 0; k < nn; k++) {
          const i = ((b * nW + w) * heads + hd) * nn + k;
          out[i] = x[i] + mask[w * nn + k];
        }
  return out;
}

/** timm's get_relative_position_index(ws, ws) by its own steps: coords, differences, shift, scale, sum. */
export function relativePositionIndex(ws: number): Int32Array {
  const n = ws * ws;
  const coords = [Array.from({ length: n }, (_, t) => Math.floor(t / ws)), Array.from({ length: n }, (_, t) => t % ws)];
  const out = new Int32Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const d0 = (coords[0][i] - coords[0][j] + ws - 1) * (2 * ws - 1);
      const d1 = coords[1][i] - coords[1][j] + ws - 1;
      out[i * n + j] = d0 + d1;
    }
  return out;
}

/** timm's get_attn_mask by its own steps: the img_mask of slice regions, partitioned, pairwise differences. */
export function attnMask(h: number, w: number, ws: number, shift: number): Float64Array {
  const img = new Float64Array(h * w);
  const slices = (size: number): [number, number][] => [[0, size - ws], [size - ws, size - shift], [size - shift, size]];
  let cnt = 0;
  for (const [h0, h1] of slices(h))
    for (const [w0, w1] of slices(w)) {
      for (let i = h0; i < h1; i++) for (let j = w0; j < w1; j++) img[i * w + j] = cnt;
      cnt++;
    }
  const windows = windowPartition(img, { batch: 1, h, w, c: 1, ws });
  const n = ws * ws;
  const nW = windows.length / n;
  const out = new Float64Array(nW * n * n);
  for (let k = 0; k < nW; k++)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[(k * n + i) * n + j] = windows[k * n + j] - windows[k * n + i] !== 0 ? -100 : 0;
  return out;
}
