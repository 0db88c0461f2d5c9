// Seeded random state of layerwise (torch.manual_seed's counterpart). Dropout masks are a
// counter-based hash of (seed, offset) computed natively, so a run is reproducible from the seed
// and the offset alone (both go into checkpoints). Host-side randomness (initialization, data
// order) uses Generator, a small deterministic PRNG (mulberry32 + Box-Muller).

let dropoutSeed = 0;
let dropoutOffset = 0;

/** Seeds the dropout stream (resetting its offset) and the default host generator. */
export function manualSeed(seed: number): void {
  dropoutSeed = seed >>> 0;
  dropoutOffset = 0;
  defaultGenerator.setState(seed);
}

/** Reserves `count` consecutive values of the dropout stream; returns [seed, offset]. */
export function nextDropoutStream(count: number): [number, number] {
  const offset = dropoutOffset;
  dropoutOffset += count;
  return [dropoutSeed, offset];
}

export function getRandomState(): { seed: number; offset: number } {
  return { seed: dropoutSeed, offset: dropoutOffset };
}

export function setRandomState(state: { seed: number; offset: number }): void {
  dropoutSeed = state.seed;
  dropoutOffset = state.offset;
}

/** A seeded generator for host-side randomness. */
export class Generator {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.next()));
    const th = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  getState(): number {
    return this.state;
  }

  setState(state: number): void {
    this.state = state >>> 0;
    this.spare = null;
  }
}

/** The generator used when none is passed (parameter initialization); seeded by manualSeed. */
export const defaultGenerator = new Generator(0);
