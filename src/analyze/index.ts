// Public entry of analyze/: forecasts, anomaly detection, fleet failure patterns, trend helpers.
export { AnomalyDetector, type AnomalyOptions, type AnomalyVerdict, observe, scoreSeries } from './anomaly/detector.ts';
export { type AnomalyScan, scanAnomalies } from './anomaly/scan.ts';
export { type FleetForecastRow, forecastFleet, recommend } from './forecast/fleet-forecast.ts';
export { describeThreshold, type ForecastResult, forecastSeries } from './forecast/forecast.ts';
export {
  DEFAULT_FLEET_PATTERN_CONFIG,
  detectFleetPatterns,
  type FleetPattern,
  type FleetPatternOverrides,
  patternAlertDraft,
} from './patterns/fleet-patterns.ts';
export { readFleetPatterns } from './patterns/read.ts';
export { calculateTrend } from './trend.ts';
