/**
 * `npm run -s bench -- picard [--json] [--seeds N] [--only ddim-100] [--window P] [--layout 1x16|3x16] [--tol T]`
 *
 * Parallel Picard sampling on the field-mixture reference model, whose prior
 * is known, so quality is measured exactly. For each scheduler and policy:
 * rounds (sequential model rounds), evals (total evaluations), relL2 (final
 * latent vs sequential, same seed), nll (mean per-window negative
 * log-likelihood per element under the known prior, at the scheduler's final
 * noise level) and nllSequential — means over the seeds. Two layouts: one
 * 16-frame native window, and a 3-chunk 32-frame latent (composite denoiser).
 */
import { ensureReferenceModels } from '../models/registry.ts';
import { FieldMixtureReference } from '../models/field-mixture/reference.ts';
import type { DenoiserManifest } from '../common/manifest.ts';
import { modelManifestSchema } from '../common/manifest.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../common/rng.ts';
import { CompositeDenoiser, extractWindow, planWindows, type Window } from '../coordinator/layout/mod.ts';
import { sampleSequential, stepNoise, type Scheduler } from '../coordinator/sampling/mod.ts';
import { createScheduler } from '../coordinator/sampling/registry.ts';
import { samplePicard } from '../coordinator/sampling/picard.ts';
import { PICARD_POLICIES, createPicardPolicy } from '../coordinator/sampling/picard-policy.ts';
import { onnxWindowEvaluator } from './onnx-windows.ts';
import { classWeightsConditioning } from '../coordinator/conditioning/class-weights.ts';
import { relL2 } from '../common/rel-l2.ts';
import { parseBenchArgs } from './bench-args.ts';

interface Case {
  name: string;
  model: 'field-mixture' | 'field-mixture-flow';
  kind: 'ddim' | 'ddpm' | 'flow_euler';
  steps: number;
  window: number;
}

/** Windows chosen so each case runs in a handful of rounds; stated in every row. */
const CASES: Case[] = [
  { name: 'ddim-50', model: 'field-mixture', kind: 'ddim', steps: 50, window: 16 },
  { name: 'ddim-100', model: 'field-mixture', kind: 'ddim', steps: 100, window: 20 },
  // The whole trajectory in one window, as ParaTAA runs it (7 rounds claimed).
  { name: 'ddim-100', model: 'field-mixture', kind: 'ddim', steps: 100, window: 100 },
  { name: 'ddim-200', model: 'field-mixture', kind: 'ddim', steps: 200, window: 40 },
  { name: 'ddpm-1000', model: 'field-mixture', kind: 'ddpm', steps: 1000, window: 80 },
  { name: 'flow_euler-50', model: 'field-mixture-flow', kind: 'flow_euler', steps: 50, window: 16 },
];

const LAYOUTS = [
  { name: '1x16', frames: 16 },
  { name: '3x16', frames: 32 },
];

export async function run(args: string[]): Promise<void> {
  const values = parseBenchArgs(args, { seeds: '4', only: undefined, tol: '0.1', window: undefined, layout: undefined });
  const seeds = Number(values.seeds);
  const tol = Number(values.tol);
  const dir = await ensureReferenceModels();
  const ref = new FieldMixtureReference();
  const rows: Record<string, number | string>[] = [];
  for (const base of CASES) {
    if (values.only && base.name !== values.only) continue;
    const c = values.window ? { ...base, window: Number(values.window) } : base;
    const manifest = modelManifestSchema.parse(JSON.parse(readFileSync(join(dir, c.model, 'manifest.json'), 'utf8'))) as DenoiserManifest;
    const evaluator = await onnxWindowEvaluator(dir, manifest);
    for (const layout of LAYOUTS) {
      if (values.layout && layout.name !== values.layout) continue;
      const dims = { channels: 4, frames: layout.frames, height: 32, width: 32 };
      const windows = planWindows(dims, { frames: 16, height: 32, width: 32 }, { frames: 8, height: 16, width: 16 });
      const acc = new Map<string, { rounds: number; evals: number; relL2: number; nll: number; nllSeq: number }>();
      for (let seed = 1; seed <= seeds; seed++) {
        // Each seed conditions on another component, so every prompt is exercised.
        const cw = new Float32Array(6);
        cw[(seed - 1) % 6] = 1;
        const scheduler = createScheduler(
          c.kind,
          c.kind === 'flow_euler'
            ? { numTrainTimesteps: manifest.trainSchedule.numTrainTimesteps, shift: 3 }
            : { trainSchedule: manifest.trainSchedule, ...(c.steps === 1000 ? { stepsOffset: 0 } : {}) },
          c.steps,
        );
        let evals = 0;
        const composite = new CompositeDenoiser({
          dims,
          windows,
          blend: 'linear',
          predictionType: manifest.predictionType,
          conditioningFor: () => classWeightsConditioning(manifest, cw),
          scheduler,
          evaluate: (items) => {
            evals += items.length;
            return evaluator.evaluate(items);
          },
        });
        const initial = new Rng(seed, 0).fillNormal(new Float32Array(4 * dims.frames * 32 * 32));
        for (let i = 0; i < initial.length; i++) initial[i]! *= scheduler.initNoiseSigma;
        const seq = await sampleSequential({ scheduler, denoise: composite.denoise, initial, noise: stepNoise(seed) });
        const nllSeq = windowNll(ref, seq, dims, windows, cw, scheduler);
        for (const policy of PICARD_POLICIES) {
          evals = 0;
          const r = await samplePicard({ scheduler, denoise: composite.denoise, initial, noise: stepNoise(seed), window: c.window, policy: createPicardPolicy(policy, tol) });
          const a = acc.get(policy) ?? { rounds: 0, evals: 0, relL2: 0, nll: 0, nllSeq: 0 };
          a.rounds += r.rounds / seeds;
          a.evals += evals / seeds;
          a.relL2 += relL2(r.sample, seq) / seeds;
          a.nll += windowNll(ref, r.sample, dims, windows, cw, scheduler) / seeds;
          a.nllSeq += nllSeq / seeds;
          acc.set(policy, a);
        }
      }
      for (const [policy, a] of acc) {
        const row = {
          scheduler: c.name,
          latent: layout.name,
          steps: c.steps,
          window: c.window,
          tol,
          policy,
          rounds: round(a.rounds, 2),
          evals: round(a.evals, 1),
          relL2: round(a.relL2, 5),
          nll: round(a.nll, 4),
          nllSequential: round(a.nllSeq, 4),
          speedup: round(c.steps / a.rounds, 2),
        };
        rows.push(row);
        if (values.json) process.stdout.write(JSON.stringify(row) + '\n');
        else process.stderr.write(`${c.name} ${layout.name} ${policy}: ${row.rounds} rounds\n`);
      }
    }
    await evaluator.release();
  }
  if (!values.json) printTable(rows);
}

/** Mean per-element NLL of each layout window under its prompt's prior, at the final noise level. */
function windowNll(ref: FieldMixtureReference, latent: Float32Array, dims: { channels: number; frames: number; height: number; width: number }, windows: readonly Window[], cw: Float32Array, s: Scheduler): number {
  const { alpha, sigma } = s.noiseLevel(s.numSteps);
  let sum = 0;
  for (const w of windows) sum += ref.meanNll(extractWindow(latent, dims, w), cw, alpha, sigma);
  return sum / windows.length;
}

function round(v: number, digits: number): number {
  return Number(v.toFixed(digits));
}

function printTable(rows: Record<string, number | string>[]): void {
  if (rows.length === 0) return;
  const keys = Object.keys(rows[0]!);
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  process.stdout.write(line(keys) + '\n' + rows.map((r) => line(keys.map((k) => String(r[k])))).join('\n') + '\n');
}
