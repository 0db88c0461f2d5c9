// The SVG helpers: escaping, nice linear ticks, log10 ticks (exact powers of 10), number
// formatting; and the tests' own XML checker, which must reject what a broken chart would contain.
import { describe, expect, test } from 'vitest';
import { escapeXml, formatLogTick, formatNumber, formatTicks, linearTicks, logTicks, PALETTE } from '../../src/plot';
import { parseXml, textOf } from './xml';

describe('escapeXml', () => {
  test('escapes & < > " \' and replaces characters XML forbids', () => {
    expect(escapeXml(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
    expect(escapeXml('x\u0001y')).toBe('x\uFFFDy');
    expect(textOf(parseXml(`<t a="${escapeXml('"<&>')}">${escapeXml('<&> "q"')}</t>`))).toBe('<&> "q"');
  });
});

describe('linearTicks', () => {
  test('0..1 in 5: steps of 0.2, no float noise', () => {
    const t = linearTicks(0, 1, 5);
    expect(t.ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(t.domain).toEqual([0, 1]);
  });
  test('domain widened to whole ticks: 0.13..0.87 -> 0.1..0.9', () => {
    const t = linearTicks(0.13, 0.87, 5);
    expect(t.domain).toEqual([0.1, 0.9]);
    expect(t.ticks[0]).toBe(0.1);
    expect(t.ticks).toContain(0.3);
  });
  test('steps are 1, 2 or 5 x 10^k; 0..450000 gives 100000 steps', () => {
    expect(linearTicks(0, 450000, 5).step).toBe(100000);
    expect(linearTicks(-3, 7, 4).step).toBe(2);
  });
  test('zero-width and non-finite ranges still give an axis', () => {
    expect(linearTicks(5, 5).domain[0]).toBeLessThan(5);
    expect(linearTicks(5, 5).domain[1]).toBeGreaterThan(5);
    expect(linearTicks(0, 0).domain).toEqual([-1, 1]);
    expect(linearTicks(NaN, 3).domain).toEqual([0, 1]);
  });
});

describe('logTicks', () => {
  const isPow10 = (v: number) => Number(`1e${Math.round(Math.log10(v))}`) === v;
  test('0.012..3.7: ticks 0.01, 0.1, 1, 10, all exact powers of 10, minor ticks 2..9 x 10^k', () => {
    const t = logTicks(0.012, 3.7);
    expect(t.ticks).toEqual([0.01, 0.1, 1, 10]);
    expect(t.minor).toContain(0.02);
    expect(t.minor).toContain(9);
  });
  test('a wide range (1e-12..1e6) keeps at most 8 labeled ticks, each an exact power of 10', () => {
    const t = logTicks(1e-12, 1e6);
    expect(t.ticks.length).toBeLessThanOrEqual(8);
    expect(t.ticks.every(isPow10)).toBe(true);
    expect(t.domain[0]).toBeLessThanOrEqual(1e-12);
    expect(t.domain[1]).toBeGreaterThanOrEqual(1e6);
    expect(t.minor).toEqual([]);
  });
  test('inside one decade (2..7) spans 1..10; a single power of 10 is centered', () => {
    expect(logTicks(2, 7).ticks).toEqual([1, 10]);
    expect(logTicks(1, 1).ticks).toEqual([0.1, 1, 10]);
  });
  test('non-positive bounds give 1..10', () => {
    expect(logTicks(0, 5).domain).toEqual([1, 10]);
  });
});

describe('formatting', () => {
  test('formatTicks: decimals from the step, one k / M unit per axis from 10000 up, no -0', () => {
    expect(formatTicks([0, 0.2, 0.4], 0.2)).toEqual(['0', '0.2', '0.4']);
    expect(formatTicks([0.75, 1], 0.25)).toEqual(['0.75', '1.00']);
    expect(formatTicks([0, 5000, 10000, 15000, 20000], 5000)).toEqual(['0', '5k', '10k', '15k', '20k']);
    expect(formatTicks([0, 500000, 1000000, 1500000], 500000)).toEqual(['0', '0.5M', '1.0M', '1.5M']);
    expect(formatTicks([2000, 3000], 1000)).toEqual(['2000', '3000']);
    expect(formatTicks([-1e-17, 0.1], 0.1)).toEqual(['0.0', '0.1']);
  });
  test('formatLogTick: written out from 0.001 to 10000, else 1eK', () => {
    expect([1e-5, 1e-3, 1, 1e4, 1e5].map(formatLogTick)).toEqual(['1e-5', '0.001', '1', '10000', '1e5']);
  });
  test('formatNumber: significant digits, exponent outside 1e-3..1e6', () => {
    expect(formatNumber(0.0123456)).toBe('0.0123');
    expect(formatNumber(2.5e-7)).toBe('2.5e-7');
    expect(formatNumber(NaN)).toBe('NaN');
  });
  test('the palette has 10 distinct colors', () => {
    expect(new Set(PALETTE).size).toBe(10);
  });
});

describe('the tests\' XML checker', () => {
  test.each([
    ['unclosed element', '<svg><g></svg>'],
    ['stray close', '<svg></g></svg>'],
    ['bare ampersand', '<svg><text>a & b</text></svg>'],
    ['unquoted attribute', '<svg width=3></svg>'],
    ['duplicate attribute', '<svg a="1" a="2"></svg>'],
    ['two roots', '<svg/><svg/>'],
    ['< in attribute', '<svg a="<"></svg>'],
  ])('rejects: %s', (_what, xml) => {
    expect(() => parseXml(xml)).toThrow(/xml:/);
  });
});
