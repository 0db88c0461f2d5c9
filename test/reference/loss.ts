// float64 references for native/cpu/loss.cc: cross-entropy with integer labels and with soft
// targets, both through log-softmax. Reference: torch.nn.CrossEntropyLoss(reduction='none')
// (https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html).

/** log_softmax of each row of a (rows, classes) matrix. */
export function logSoftmax(logits: ArrayLike<number>, rows: number, classes: number): Float64Array {
  const out = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let k = 0; k < classes; k++) m = Math.max(m, logits[r * classes + k]);
    let s = 0;
    for (let k = 0; k < classes; k++) s += Math.exp(logits[r * classes + k] - m);
    const lse = m + Math.log(s);
    for (let k = 0; k < classes; k++) out[r * classes + k] = logits[r * classes + k] - lse;
  }
  return out;
}

export interface LossResult {
  losses: Float64Array; // (rows)
  logProbs: Float64Array; // (rows, classes)
}

/** losses[r] = -log_softmax(logits[r])[labels[r]] */
export function crossEntropy(logits: ArrayLike<number>, labels: ArrayLike<number>, rows: number, classes: number): LossResult {
  const logProbs = logSoftmax(logits, rows, classes);
  return { losses: Float64Array.from({ length: rows }, (_, r) => -logProbs[r * classes + labels[r]]), logProbs };
}

/** dlogits[r] = dlosses[r] * (softmax(logits[r]) - onehot(labels[r])) */
export function crossEntropyBackward(dlosses: ArrayLike<number>, logProbs: ArrayLike<number>, labels: ArrayLike<number>,
  rows: number, classes: number): Float64Array {
  const d = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < classes; k++) d[r * classes + k] = dlosses[r] * (Math.exp(logProbs[r * classes + k]) - (k === labels[r] ? 1 : 0));
  return d;
}

/** losses[r] = -sum_k targets[r, k] * log_softmax(logits[r])[k] */
export function softCrossEntropy(logits: ArrayLike<number>, targets: ArrayLike<number>, rows: number, classes: number): LossResult {
  const logProbs = logSoftmax(logits, rows, classes);
  const losses = new Float64Array(rows);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < classes; k++) losses[r] -= targets[r * classes + k] * logProbs[r * classes + k];
  return { losses, logProbs };
}

/** dlogits[r] = dlosses[r] * (softmax(logits[r]) * sum_k targets[r, k] - targets[r]) */
export function softCrossEntropyBackward(dlosses: ArrayLike<number>, logProbs: ArrayLike<number>, targets: ArrayLike<number>,
  rows: number, classes: number): Float64Array {
  const d = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    let tsum = 0;
    for (let k = 0; k < classes; k++) tsum += targets[r * classes + k];
    for (let k = 0; k < classes; k++) {
      const i = r * classes + k;
      d[i] = dlosses[r] * (Math.exp(logProbs[i]) * tsum - targets[i]);
    }
  }
  return d;
}

/**
 * Accuracy counts: [label has the largest logit, label among the k largest, rows with a non-finite
 * logit]. A class ranks above the label when its logit is greater, or equal with a lower index; a
 * row with a NaN or infinite logit counts only as non-finite.
 */
export function classificationCounts(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number, k: number): [number, number, number] {
  let top1 = 0;
  let topk = 0;
  let bad = 0;
  for (let r = 0; r < labels.length; r++) {
    const label = labels[r];
    const target = logits[r * classes + label];
    let greater = 0;
    let finite = true;
    for (let c = 0; c < classes; c++) {
      const v = logits[r * classes + c];
      if (!Number.isFinite(v)) finite = false;
      if (v > target || (v === target && c < label)) greater++;
    }
    if (!finite) bad++;
    else {
      if (greater === 0) top1++;
      if (greater < k) topk++;
    }
  }
  return [top1, topk, bad];
}
