// SVG charts of the project (docs/design.md section 2): loss and accuracy curves of one run or
// several, and eta per parameter tensor in the style of the paper's Figures 4 and 5. Plain SVG
// strings.
export { lineChart, type LineChartOptions, type LineSeries } from './line-chart';
export {
  etaChart, etaKind, inferEtaKind, labeledIndices, ETA_KIND_COLORS, MAX_ETA_LABELS,
  type EtaChartOptions, type EtaKind, type EtaParam,
} from './eta-chart';
export {
  compareRunsPlots, metricPoints, metricsPlots, metricValue, parseMetricsJsonl,
  type MetricsRecord, type RunPlotOptions, type RunPlots,
} from './run-plots';
export {
  PALETTE, paletteColor, escapeXml, formatNumber, formatTicks, formatLogTick, linearTicks, logTicks,
  type Ticks,
} from './svg';
