/** The elastic bench's rows and its targets, `auto` against `sequential` in the same run (bench/elastic.ts). */
import { round } from './table.ts';

/** The sampler a row ran. */
export type Sampler = 'sequential' | 'auto';

/** A bench row. */
export interface ElasticRow {
  scenario: string;
  workers: number;
  jobs: number;
  sampler: Sampler;
  seconds: number;
  meanJobSeconds: number;
  evals: number;
  rounds: number;
  windows: string;
  meanWindow: number;
  relL2: number;
  nll: number;
  nllSequential: number;
  meanBatch: number;
  gpuBusy: number;
  allIdlePerRoundMs: number;
  coordCpuPerRoundMs: number;
  hostCores: number;
}

/** A scenario's verdict: ratios sequential / auto and its targets. */
export interface Verdict {
  scenario: string;
  secondsRatio: number;
  meanJobSecondsRatio: number;
  target: string;
  met: boolean;
}

/** Each scenario's ratios and whether its target is met (the targets, judged on unrounded ratios). */
export function summary(rows: readonly ElasticRow[]): { verdicts: Verdict[]; text: string[] } {
  const verdicts: Verdict[] = [];
  const text: string[] = [];
  for (const name of [...new Set(rows.map((r) => r.scenario))]) {
    const s = rows.find((r) => r.scenario === name && r.sampler === 'sequential');
    const a = rows.find((r) => r.scenario === name && r.sampler === 'auto');
    if (!s || !a) continue;
    // Targets are judged on the unrounded ratio (5.498 is not 5.5).
    const ratio = s.seconds / a.seconds;
    const secondsRatio = round(ratio, 3);
    const meanJobSecondsRatio = round(s.meanJobSeconds / a.meanJobSeconds, 3);
    const nllOk = a.nll <= a.nllSequential + 0.01;
    let target: string;
    let met: boolean;
    if (name === 'single' || name === 'three') {
      const need = name === 'single' ? 5.5 : 3.3;
      target = `sequential/auto seconds >= ${need}x and nll <= nllSequential + 0.01 (${secondsRatio}x, nll ${a.nll} vs ${a.nllSequential})`;
      met = ratio >= need && nllOk;
    } else if (name === 'queue') {
      target = `auto seconds <= 1.05 x sequential (${round(a.seconds / s.seconds, 3)}x) and meanJobSeconds no worse (${a.meanJobSeconds} vs ${s.meanJobSeconds})`;
      met = a.seconds <= 1.05 * s.seconds && a.meanJobSeconds <= s.meanJobSeconds;
    } else {
      target = `auto seconds within 3% of sequential (auto/sequential ${round(a.seconds / s.seconds, 3)})`;
      met = a.seconds <= 1.03 * s.seconds;
    }
    verdicts.push({ scenario: name, secondsRatio, meanJobSecondsRatio, target, met });
    text.push(`${name}: sequential/auto seconds ${secondsRatio}x, meanJobSeconds ${meanJobSecondsRatio}x; target ${target}: ${met ? 'met' : 'NOT met'}`);
  }
  return { verdicts, text };
}

