// Public entry of the alerting stage: rule evaluation, the alert state machine, silences and statistics.
export { DEFAULT_RULE_INPUTS, DEFAULT_RULES } from './default-rules.ts';
export {
  type ActionResult,
  AlertActionError,
  type AlertEngineState,
  acknowledge,
  type EvaluationInput,
  type EvaluationResult,
  emptyState,
  evaluate,
  fingerprint,
  freshNoDataWindows,
  resolveManually,
} from './evaluate.ts';
export { alertTitle, formatValue, metricInfo, renderTemplate, thresholdText } from './messages.ts';
export { type AlertPatterns, alertPatterns } from './patterns.ts';
export {
  type AlertingSettings,
  type AlertRule,
  compileRule,
  DEFAULT_SETTINGS,
  effectiveRules,
  settingsFromConfig,
  VM_UNREACHABLE_RULE,
} from './rule.ts';
export { openOccurrence, parseSchedule, ScheduleError } from './schedule.ts';
export { AlertService, type AlertServiceOptions, type NewSilence, SilenceError } from './service.ts';
export { autoSeverity, overagePercent } from './severity.ts';
export { activeMutes, compileMaintenanceWindows, type MaintenanceWindow, silenceActive } from './silences.ts';
