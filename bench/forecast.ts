// Forecast accuracy on real server metrics (NAB realAWSCloudwatch): train on the first 7 days, forecast the
// following days, WAPE of hourly means per series and overall, for the linear baseline and Vigil's chosen model.
import { readFileSync } from 'node:fs';
import {
  backtest,
  chooseModel,
  forecastSeries,
  intervalHalfWidth,
  toHourlyGrid,
} from '../src/analyze/forecast/forecast.ts';
import { MODEL_NAMES, PREDICTORS } from '../src/analyze/forecast/models.ts';
import { readNabSeries } from './nab.ts';

const FILES = [
  'realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv',
  'realAWSCloudwatch/ec2_cpu_utilization_53ea38.csv',
  'realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv',
  'realAWSCloudwatch/ec2_cpu_utilization_77c1ca.csv',
  'realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv',
  'realAWSCloudwatch/ec2_cpu_utilization_c6585a.csv',
  'realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv',
  'realAWSCloudwatch/ec2_network_in_257a54.csv',
  'realAWSCloudwatch/elb_request_count_8c0756.csv',
  'realAWSCloudwatch/grok_asg_anomaly.csv',
  'realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv',
];

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const dir =
    args.find((a) => a.startsWith('--data='))?.slice(7) ??
    new URL('../../shared/datasets/nab/', import.meta.url).pathname;
  const trainDays = 7;
  const perSeries: Record<string, unknown>[] = [];
  const totals: Record<string, { err: number; act: number }> = {
    linear: { err: 0, act: 0 },
    chosen: { err: 0, act: 0 },
    hindsight_constant: { err: 0, act: 0 },
    hindsight_daily_profile: { err: 0, act: 0 },
  };
  for (const m of MODEL_NAMES) totals[m] ??= { err: 0, act: 0 };
  const coverage = { inside: 0, seen: 0 };
  const t0 = performance.now();
  for (const file of FILES) {
    const points = readNabSeries(readFileSync(`${dir}/${file}`, 'utf8'));
    const grid = toHourlyGrid(points);
    const n = trainDays * 24;
    if (grid.values.length <= n) continue;
    const train = { startHour: grid.startHour, values: grid.values.subarray(0, n) };
    const actual = grid.values.subarray(n);
    const chosen = chooseModel(train);
    const row: Record<string, unknown> = { file, testHours: actual.length, chosen: chosen.model };
    const add = (key: string, pred: Float64Array) => {
      let err = 0;
      let act = 0;
      for (let i = 0; i < actual.length; i++) {
        if (Number.isNaN(actual[i])) continue;
        err += Math.abs(actual[i] - pred[i]);
        act += Math.abs(actual[i]);
      }
      // Series differ in scale (bytes vs %), so overall WAPE is the mean of per-series WAPEs, and pooled too.
      totals[key].err += err / act;
      totals[key].act += 1;
      row[`wape_${key}`] = Math.round((10000 * err) / act) / 100;
    };
    for (const m of MODEL_NAMES) add(m, PREDICTORS[m](train, actual.length));
    const chosenPred = PREDICTORS[chosen.model](train, actual.length);
    add('chosen', chosenPred);
    // Not a model: the best constant in hindsight (the test period's median minimises absolute error). It shows
    // how much of a series' error no forecast from its history can remove (spikes, bursts, one-off drops).
    const observedTest = [...actual].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    add(
      'hindsight_constant',
      new Float64Array(actual.length).fill(observedTest[Math.floor(observedTest.length / 2)] ?? 0),
    );
    // Nor this: the best daily profile in hindsight, each hour of day predicted by the test period's own median for
    // that hour. It bounds what any level-plus-daily-cycle forecast could reach, knowing the future.
    const profile = new Float64Array(actual.length);
    for (let h = 0; h < 24; h++) {
      const slot: number[] = [];
      for (let i = 0; i < actual.length; i++)
        if ((grid.startHour + n + i) % 24 === h && !Number.isNaN(actual[i])) slot.push(actual[i]);
      slot.sort((a, b) => a - b);
      const med = slot.length === 0 ? 0 : slot[Math.floor(slot.length / 2)]!;
      for (let i = 0; i < actual.length; i++) if ((grid.startHour + n + i) % 24 === h) profile[i] = med;
    }
    add('hindsight_daily_profile', profile);
    let inside = 0;
    let seen = 0;
    for (let i = 0; i < actual.length; i++) {
      if (Number.isNaN(actual[i])) continue;
      seen++;
      if (Math.abs(actual[i] - chosenPred[i]) <= intervalHalfWidth(chosen, i)) inside++;
    }
    coverage.inside += inside;
    coverage.seen += seen;
    row.interval80Coverage = Math.round((1000 * inside) / seen) / 1000;
    row.backtest = backtest(train).map((b) => ({
      model: b.model,
      wape: b.wape === null ? null : Math.round(b.wape * 10000) / 100,
    }));
    perSeries.push(row);
  }
  const cpuOnly = (key: string) => {
    const xs = perSeries.filter((r) => String(r.file).includes('cpu_utilization')).map((r) => Number(r[`wape_${key}`]));
    return Math.round((100 * xs.reduce((a, b) => a + b, 0)) / xs.length) / 100;
  };
  const medianOf = (key: string) => {
    const xs = perSeries.map((r) => Number(r[`wape_${key}`])).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)];
  };
  const overall = Object.fromEntries(
    Object.entries(totals).map(([k, v]) => [k, Math.round((10000 * v.err) / v.act) / 100]),
  );
  // Cost of one full forecast (6 models × 3 backtest folds + the final fit) on 30 days of hourly data.
  const month = Array.from({ length: 30 * 24 }, (_, h) => ({
    ts: h * 3_600_000,
    value: 40 + 15 * Math.sin((2 * Math.PI * h) / 24) + h / 48 + ((h * 7919) % 11) / 5,
  }));
  const reps = 50;
  const tf = performance.now();
  for (let i = 0; i < reps; i++) forecastSeries('vm', 'cpu_percent', month, { percent: true });
  const msPerForecast30d = Math.round(((performance.now() - tf) / reps) * 100) / 100;
  return {
    msPerForecast30dHistory: msPerForecast30d,
    dataset: 'NAB realAWSCloudwatch (11 series, 5-min, hourly means)',
    trainDays,
    overallWapePercent: overall,
    cpuSeriesMeanWapePercent: { linear: cpuOnly('linear'), chosen: cpuOnly('chosen') },
    medianSeriesWapePercent: { linear: medianOf('linear'), chosen: medianOf('chosen') },
    interval80Coverage: Math.round((1000 * coverage.inside) / coverage.seen) / 1000,
    improvementVsLinearPercent: Math.round((10000 * (overall.linear - overall.chosen)) / overall.linear) / 100,
    perSeries,
    computeMs: Math.round(performance.now() - t0),
  };
}
