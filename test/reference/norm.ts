// float64 references for native/cpu/norm.cc: BatchNorm2d (train / eval, forward / backward) on
// (n, c, hw) tensors and LayerNorm over the last dimension of (rows, cols).
// References: torch.nn.BatchNorm2d, torch.nn.LayerNorm (https://pytorch.org/docs/stable/nn.html).

export interface BatchNormTrainResult {
  y: Float64Array; // (n, c, hw)
  mean: Float64Array; // (c)
  invstd: Float64Array; // (c) 1 / sqrt(biased var + eps)
  runningMean: Float64Array; // (c)
  runningVar: Float64Array; // (c) updated with the unbiased variance
}

/** Per-channel mean and biased variance of an (n, c, hw) tensor. */
function channelStats(x: ArrayLike<number>, n: number, c: number, hw: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  const count = n * hw;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) s += x[(i * c + ch) * hw + j];
    mean[ch] = s / count;
    let sq = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < hw; j++) {
        const d = x[(i * c + ch) * hw + j] - mean[ch];
        sq += d * d;
      }
    variance[ch] = sq / count;
  }
  return { mean, variance };
}

/** y = (x - mean_c) * scale_c * gamma_c + beta_c for every element of channel c. */
function affine(x: ArrayLike<number>, n: number, c: number, hw: number, mean: ArrayLike<number>, scale: ArrayLike<number>,
  gamma: ArrayLike<number>, beta: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n * c * hw);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++)
      for (let j = 0; j < hw; j++) {
        const k = (i * c + ch) * hw + j;
        y[k] = (x[k] - mean[ch]) * scale[ch] * gamma[ch] + beta[ch];
      }
  return y;
}

export function batchnormTrain(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>,
  runningMean: ArrayLike<number>, runningVar: ArrayLike<number>, n: number, c: number, hw: number,
  momentum: number, eps: number): BatchNormTrainResult {
  const { mean, variance } = channelStats(x, n, c, hw);
  const count = n * hw;
  const invstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  return {
    y: affine(x, n, c, hw, mean, invstd, gamma, beta),
    mean,
    invstd,
    runningMean: Float64Array.from(runningMean, (r, ch) => (1 - momentum) * r + momentum * mean[ch]),
    runningVar: Float64Array.from(runningVar, (r, ch) => (1 - momentum) * r + (momentum * variance[ch] * count) / (count - 1)),
  };
}

export function batchnormEval(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>,
  runningMean: ArrayLike<number>, runningVar: ArrayLike<number>, n: number, c: number, hw: number, eps: number): Float64Array {
  const scale = Float64Array.from(runningVar, (v) => 1 / Math.sqrt(v + eps));
  return affine(x, n, c, hw, runningMean, scale, gamma, beta);
}

export interface NormGrads {
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/** Backward of batchnormTrain with the batch statistics (mean, invstd) it saved. */
export function batchnormBackwardTrain(dy: ArrayLike<number>, x: ArrayLike<number>, gamma: ArrayLike<number>,
  mean: ArrayLike<number>, invstd: ArrayLike<number>, n: number, c: number, hw: number): NormGrads {
  const dx = new Float64Array(n * c * hw);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  const count = n * hw;
  for (let ch = 0; ch < c; ch++) {
    let sdy = 0;
    let sdyxhat = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < hw; j++) {
        const k = (i * c + ch) * hw + j;
        sdy += dy[k];
        sdyxhat += dy[k] * (x[k] - mean[ch]) * invstd[ch];
      }
    dbeta[ch] = sdy;
    dgamma[ch] = sdyxhat;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < hw; j++) {
        const k = (i * c + ch) * hw + j;
        const xhat = (x[k] - mean[ch]) * invstd[ch];
        dx[k] = ((gamma[ch] * invstd[ch]) / count) * (count * dy[k] - sdy - xhat * sdyxhat);
      }
  }
  return { dx, dgamma, dbeta };
}

/** Backward of batchnormEval: the running statistics are constants. */
export function batchnormBackwardEval(dy: ArrayLike<number>, x: ArrayLike<number>, gamma: ArrayLike<number>,
  runningMean: ArrayLike<number>, runningVar: ArrayLike<number>, n: number, c: number, hw: number, eps: number): NormGrads {
  const dx = new Float64Array(n * c * hw);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const invstd = 1 / Math.sqrt(runningVar[ch] + eps);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < hw; j++) {
        const k = (i * c + ch) * hw + j;
        dx[k] = dy[k] * gamma[ch] * invstd;
        dgamma[ch] += dy[k] * (x[k] - runningMean[ch]) * invstd;
        dbeta[ch] += dy[k];
      }
  }
  return { dx, dgamma, dbeta };
}

export interface LayerNormResult {
  y: Float64Array; // (rows, cols)
  mean: Float64Array; // (rows)
  rstd: Float64Array; // (rows) 1 / sqrt(biased var + eps)
}

export function layernorm(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, rows: number,
  cols: number, eps: number): LayerNormResult {
  const { mean, variance } = channelStats(x, 1, rows, cols); // rows as channels of one sample
  const rstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++) y[r * cols + j] = (x[r * cols + j] - mean[r]) * rstd[r] * gamma[j] + beta[j];
  return { y, mean, rstd };
}

export function layernormBackward(dy: ArrayLike<number>, x: ArrayLike<number>, gamma: ArrayLike<number>,
  mean: ArrayLike<number>, rstd: ArrayLike<number>, rows: number, cols: number): NormGrads {
  const dx = new Float64Array(rows * cols);
  const dgamma = new Float64Array(cols);
  const dbeta = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    let sg = 0;
    let sgxhat = 0;
    for (let j = 0; j < cols; j++) {
      const k = r * cols + j;
      const xhat = (x[k] - mean[r]) * rstd[r];
      sg += dy[k] * gamma[j];
      sgxhat += dy[k] * gamma[j] * xhat;
      dgamma[j] += dy[k] * xhat;
      dbeta[j] += dy[k];
    }
    for (let j = 0; j < cols; j++) {
      const k = r * cols + j;
      const xhat = (x[k] - mean[r]) * rstd[r];
      dx[k] = rstd[r] * (dy[k] * gamma[j] - sg / cols - (xhat * sgxhat) / cols);
    }
  }
  return { dx, dgamma, dbeta };
}

/** (n, c, hw) <-> (n * hw, c): the rows of a layer norm over the channels. */
function channelsToRows(x: ArrayLike<number>, n: number, c: number, hw: number): Float64Array {
  const out = new Float64Array(n * c * hw);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) out[(i * hw + p) * c + ch] = x[(i * c + ch) * hw + p];
  return out;
}
function rowsToChannels(x: ArrayLike<number>, n: number, c: number, hw: number): Float64Array {
  const out = new Float64Array(n * c * hw);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) out[(i * c + ch) * hw + p] = x[(i * hw + p) * c + ch];
  return out;
}

/** timm LayerNorm2d on x (n, c, hw): layernorm of the (n * hw, c) rows; mean / rstd indexed i * hw + p. */
export function layernormChannels(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, n: number,
  c: number, hw: number, eps: number): LayerNormResult {
  const r = layernorm(channelsToRows(x, n, c, hw), gamma, beta, n * hw, c, eps);
  return { y: rowsToChannels(r.y, n, c, hw), mean: r.mean, rstd: r.rstd };
}

export function layernormChannelsBackward(dy: ArrayLike<number>, x: ArrayLike<number>, gamma: ArrayLike<number>,
  mean: ArrayLike<number>, rstd: ArrayLike<number>, n: number, c: number, hw: number): NormGrads {
  const g = layernormBackward(channelsToRows(dy, n, c, hw), channelsToRows(x, n, c, hw), gamma, mean, rstd, n * hw, c);
  return { dx: rowsToChannels(g.dx, n, c, hw), dgamma: g.dgamma, dbeta: g.dbeta };
}
