// etaChart (the paper's Figures 4 and 5): one bar per tensor in model order colored by kind, log y
// axis labeled at powers of 10, a line at eta = 1, 'weights' keeping conv/linear weights only
// (declared roles or names), tick labels thinned to at most 40 above 40 tensors, eta <= 0 noted.
import { describe, expect, test } from 'vitest';
import { etaChart, inferEtaKind, labeledIndices } from '../../src/plot';
import { parseXml, select, textOf } from './xml';

const resnetLike = [
  { name: 'conv1.weight', eta: 0.038 },
  { name: 'bn1.weight', eta: 0.098 },
  { name: 'bn1.bias', eta: 0.4 },
  { name: 'layer1.0.conv1.weight', eta: 0.6 },
  { name: 'layer1.0.bn1.weight', eta: 1.3 },
  { name: 'layer1.0.bn1.bias', eta: 2.2 },
  { name: 'fc.weight', eta: 3.1 },
  { name: 'fc.bias', eta: 12 },
];
const barNames = (svg: string) => select(parseXml(svg), 'rect', 'bar').map((r) => textOf(r).split(':')[0]);

describe('etaChart', () => {
  const svg = etaChart({ title: 'ResNet-50 eta <ImageNet>', params: resnetLike });
  const root = parseXml(svg);

  test('well-formed, with the title, one bar per tensor in model order and each name as a tick label', () => {
    expect(root.tag).toBe('svg');
    expect(textOf(root)).toContain('ResNet-50 eta <ImageNet>');
    expect(barNames(svg)).toEqual(resnetLike.map((p) => p.name));
    expect(select(root, 'text', 'x-tick').map(textOf)).toEqual(resnetLike.map((p) => p.name));
  });
  test('y ticks are powers of 10 spanning all etas; a line at eta = 1', () => {
    const y = select(root, 'text', 'y-tick').map((t) => Number(textOf(t)));
    expect(y).toEqual([0.01, 0.1, 1, 10, 100]);
    expect(select(root, 'line', 'eta-one')).toHaveLength(1);
    expect(textOf(select(root, 'g', 'legend')[0])).toContain('eta = 1');
  });
  test('bars are colored by kind inferred from names; the legend names the kinds present', () => {
    const kinds = select(root, 'rect', 'bar').map((r) => r.attrs.class.split(' ')[1]);
    expect(kinds).toEqual(['weight', 'norm_scale', 'norm_shift', 'weight', 'norm_scale', 'norm_shift', 'weight', 'bias']);
    const fills = new Set(select(root, 'rect', 'bar').map((r) => r.attrs.fill));
    expect(fills.size).toBe(4);
    expect(textOf(select(root, 'g', 'legend')[0])).toBe('conv/linear weightbiasnorm scalenorm shifteta = 1 (mean)');
  });
  test('bars start at eta = 1: those above 1 end higher on the page than those below', () => {
    const bars = select(root, 'rect', 'bar');
    const line = select(root, 'line', 'eta-one')[0];
    const base = Number(line.attrs.y1);
    expect(Number(bars[0].attrs.y)).toBeCloseTo(base, 1);
    expect(Number(bars[7].attrs.y) + Number(bars[7].attrs.height)).toBeCloseTo(base, 1);
  });

  test("only: 'weights' keeps conv/linear weights, leaving out biases and norms (names inferred)", () => {
    expect(barNames(etaChart({ title: 't', params: resnetLike, only: 'weights' }))).toEqual([
      'conv1.weight', 'layer1.0.conv1.weight', 'fc.weight',
    ]);
  });
  test("only: 'weights' follows declared roles over names", () => {
    const params = [
      { name: 'stem.0.weight', eta: 0.1, role: 'weight' },
      { name: 'downsample.1.weight', eta: 0.2, role: 'norm_scale' },
      { name: 'head.bias', eta: 0.3, role: 'bias' },
      { name: 'cls_token', eta: 0.012, role: 'cls_token' },
      { name: 'blocks.0.attn.q.weight', eta: 5, role: 'weight' },
      { name: 'blocks.0.ls1.gamma', eta: 0.5, role: 'layer_scale' },
    ];
    expect(barNames(etaChart({ title: 't', params, only: 'weights' }))).toEqual(['stem.0.weight', 'blocks.0.attn.q.weight']);
    const kinds = select(parseXml(etaChart({ title: 't', params })), 'rect', 'bar').map((r) => r.attrs.class.split(' ')[1]);
    expect(kinds).toEqual(['weight', 'norm_scale', 'bias', 'other', 'weight', 'other']);
  });
  test('inferEtaKind: norms by module name (bn1, ln_1, norm, fc_norm, LayerNorm), the rest by suffix', () => {
    expect(inferEtaKind('layer1.0.bn1.weight')).toBe('norm_scale');
    expect(inferEtaKind('encoder.ln_1.bias')).toBe('norm_shift');
    expect(inferEtaKind('blocks.3.norm2.weight')).toBe('norm_scale');
    expect(inferEtaKind('fc_norm.weight')).toBe('norm_scale');
    expect(inferEtaKind('encoder.LayerNorm.weight')).toBe('norm_scale');
    expect(inferEtaKind('blocks.3.attn.k.weight')).toBe('weight');
    expect(inferEtaKind('blocks.3.attn.k.bias')).toBe('bias');
    expect(inferEtaKind('cls_token')).toBe('other');
    expect(inferEtaKind('layers.0.blocks.0.attn.relative_position_bias_table')).toBe('other');
    // The documented limit: a norm whose module name does not say so is taken for a weight.
    expect(inferEtaKind('layer1.0.downsample.1.weight')).toBe('weight');
  });

  test.each([
    [40, 40, 1],
    [41, 21, 2],
    [161, 33, 5],
    [400, 40, 10],
  ])('%i tensors: %i tick labels, one every %i tensors, all bars drawn', (n, labels, every) => {
    const params = Array.from({ length: n }, (_, i) => ({ name: `blocks.${i}.fc.weight`, eta: 0.5 + i / n }));
    const r = parseXml(etaChart({ title: 't', params }));
    const ticks = select(r, 'text', 'x-tick').map(textOf);
    expect(ticks).toHaveLength(labels);
    expect(ticks.length).toBeLessThanOrEqual(40);
    expect(ticks.slice(0, 2)).toEqual(['blocks.0.fc.weight', `blocks.${every}.fc.weight`]);
    expect(select(r, 'rect', 'bar')).toHaveLength(n);
    expect(labeledIndices(n)).toHaveLength(labels);
  });
  test('long names are shortened in the middle on the axis, kept whole in the bar tooltip', () => {
    const name = 'stages.3.blocks.2.attention.self.query_projection.weight';
    const r = parseXml(etaChart({ title: 't', params: [{ name, eta: 2 }] }));
    const label = textOf(select(r, 'text', 'x-tick')[0]);
    expect(label.length).toBeLessThanOrEqual(36);
    expect(label).toContain('…');
    expect(label.endsWith('weight')).toBe(true);
    expect(textOf(select(r, 'rect', 'bar')[0])).toContain(name);
  });
  test('eta 0 (frozen) and NaN cannot go on the log axis: no bar, named in a note', () => {
    const r = parseXml(etaChart({
      title: 't', params: [{ name: 'a.weight', eta: 0.5 }, { name: 'attn.k.bias', eta: 0 }, { name: 'b.weight', eta: NaN }],
    }));
    expect(select(r, 'rect', 'bar')).toHaveLength(1);
    const note = textOf(select(r, 'text', 'note')[0]);
    expect(note).toContain('attn.k.bias (0)');
    expect(note).toContain('b.weight (NaN)');
  });
  test('no tensors (or none left by the filter) still gives a valid chart saying so', () => {
    const r = parseXml(etaChart({ title: 't', params: [{ name: 'a.bias', eta: 1 }], only: 'weights' }));
    expect(textOf(r)).toContain('no tensors');
    expect(select(r, 'rect', 'bar')).toHaveLength(0);
  });
});
