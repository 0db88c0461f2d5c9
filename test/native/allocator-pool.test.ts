// The CUDA caching allocator's bookkeeping (native/cuda/allocator_pool.h: size classes, best fit,
// split and merge, statistics, what a host-to-device copy waits for) checked on the host, as no GPU is needed for it: allocator_pool.cc
// drives it with fake segment addresses, compiled here with the system C++ compiler.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const MiB = 1 << 20;
const root = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'layerwise-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Stats { allocated: number; peak: number; reserved: number; allocs: number; hits: number; mallocs: number; frees: number }
type Where = [number, number]; // [segment index, offset in the segment]
interface Report {
  sizes: { round: number[]; segment: number[] };
  small: { a: Where; b: Where; c: Where; d: Where; freed: boolean; twice: boolean; after: Stats; kept: number; dropped: number; end: Stats };
  large: { a: Where; b: Where; c: Where; d: Where; e: Where; stats: Stats; dropped: number; end: Stats };
  stress: { violations: string[]; hits: number; segments: number; dropped: number; end: Stats };
  copy: Record<'fresh' | 'used' | 'inside' | 'past_end' | 'unknown' | 'reused' | 'rest' | 'merged', [string, number]> & {
    clock: number; find: number[]; wrapped: number[];
  };
}

let report: Report;
beforeAll(() => {
  const exe = path.join(dir, 'allocator_pool');
  execFileSync('g++', ['-std=c++17', '-O1', `-I${path.join(root, 'native')}`, path.join(__dirname, 'allocator_pool.cc'), '-o', exe],
    { stdio: 'pipe' });
  report = JSON.parse(execFileSync(exe, { encoding: 'utf8' })) as Report;
}, 120_000);

describe('CUDA caching allocator bookkeeping', () => {
  test('sizes: 512-byte blocks; 2 MiB small segments, 20 MiB below 10 MiB, else rounded to 2 MiB', () => {
    expect(report.sizes.round).toEqual([512, 512, 512, 1024, Math.ceil(1e6 / 512) * 512]);
    expect(report.sizes.segment).toEqual([2 * MiB, 2 * MiB, 20 * MiB, 20 * MiB, 10 * MiB, 12 * MiB]);
  });

  test('small pool: blocks split from one segment, a freed block reused by best fit, all merged back', () => {
    const s = report.small;
    expect([s.a, s.b, s.c]).toEqual([[0, 0], [0, 1024], [0, 2048]]);
    expect(s.freed).toBe(true);
    expect(s.twice).toBe(false); // a second free of the same block is refused
    expect(s.d).toEqual([0, 1024]); // the freed 1024 bytes, not the segment's large tail
    expect(s.after).toMatchObject({ allocated: 1024 + 512 + 1024, reserved: 2 * MiB, allocs: 4, hits: 3, mallocs: 1 });
    expect(s.kept).toBe(0); // a live block keeps its segment
    expect(s.dropped).toBe(1); // then the merged free segment goes back
    expect(s.end).toMatchObject({ allocated: 0, reserved: 0, frees: 1, peak: 2560 });
  });

  test('large pool: medium requests share a segment, big ones get their own, small rests stay attached', () => {
    const l = report.large;
    expect([l.a, l.b, l.c]).toEqual([[0, 0], [0, 3 * MiB], [0, 6 * MiB]]);
    expect(l.d).toEqual([1, 0]); // 17.5 MiB: an 18 MiB segment of its own
    expect(l.e).toEqual([2, 0]); // 14 MiB: the first segment's 2 MiB rest is too small
    // d keeps the whole 18 MiB (its 0.5 MiB rest is not split off).
    expect(l.stats).toMatchObject({ allocated: (3 + 3 + 12 + 18 + 14) * MiB, reserved: (20 + 18 + 14) * MiB, hits: 2, mallocs: 3 });
    expect(l.dropped).toBe(3);
    expect(l.end).toMatchObject({ allocated: 0, reserved: 0, frees: 3 });
  });

  test('20000 random allocations and frees keep blocks disjoint and inside their segments; freeing all returns every segment', () => {
    const s = report.stress;
    expect(s.violations).toEqual([]);
    expect(s.hits).toBeGreaterThan(s.end.mallocs); // the cache serves most requests
    expect(s.dropped).toBe(s.segments);
    expect(s.end).toMatchObject({ allocated: 0, reserved: 0, frees: s.segments, mallocs: s.segments });
  });

  test('copy ordering: a copy waits only for the compute work that used its destination\'s memory', () => {
    const c = report.copy;
    expect(c.fresh).toEqual(['none', 0]); // memory fresh from cudaMalloc: no wait
    expect(c.used).toEqual(['all', 0]); // a kernel may have used the live block since its allocation
    expect([c.inside, c.past_end, c.unknown]).toEqual([['all', 0], ['all', 0], ['all', 0]]); // not a whole block: wait for all
    expect(c.reused).toEqual(['after', 1]); // memory freed by free number 1: its users were enqueued before it
    expect(c.rest).toEqual(['after', 1]); // the split rest keeps the number
    expect(c.merged).toEqual(['after', 3]); // merged blocks take the newest
    expect(c.clock).toBe(3);
    // Ring of 4 records at clocks 0, 3, 3, 7: the oldest record at or after the free, or none.
    expect(c.find).toEqual([0, 1, 3, -1]);
    // A fifth record (clock 9) overwrites slot 0: the oldest survivor is now slot 1.
    expect(c.wrapped).toEqual([0, 1, 0]);
  });
});
