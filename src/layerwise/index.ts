// The layer-wise learning-rate method: probe (Algorithm 1), eta computation and profiles.
export { probe, type ProbeBatch, type ProbeOptions, type ProbeResult } from './probe';
export {
  DEFAULT_CONVERGENCE, EtaConvergence, maxRelativeChange, validateConvergence, type ProbeConvergence,
} from './convergence';
export { computeEta, weightedMeanEta, type EtaEntry, type EtaInput, type EtaOptions } from './eta';
export {
  compareProfiles, degenerateSummary, etaForModel, formatProfileTable, loadProfile, saveProfile, type DegenerateSummary, type EtaProfile, type ProbeStop, type ProfileComparison,
} from './profile';
export { depthEta, DEPTH_ENDPOINTS, type DepthProfile } from './depth';
