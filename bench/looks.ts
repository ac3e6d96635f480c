/**
 * `npm run -s bench -- looks [--json] [--seed N] [--samples N] [--pipeline] [--steps N]`
 *
 * Whether each field-mixture component looks and moves like its name, in
 * numbers measured on decoded 256 x 256 video: per component, `--samples`
 * exact prior samples (16 frames, 64 x 64 latent; see `looks-render.ts`)
 * decoded by the real field-decoder ONNX graph; with `--pipeline`, also
 * `--samples` 16-frame 256 x 256 renders of the prompt through the real
 * pipeline (`looks-pipeline.ts`: embedded cluster, default DDIM, `--steps`
 * steps, latent output decoded by the same graph). Then (`looks-metrics.ts`)
 * the 1/e length of the luminance autocorrelation along x and y, and the
 * frame-to-frame shift of the luminance and its part along the component's
 * drift. Rows report the mean over samples; `drift` is the velocity the
 * component is built with (latent px/frame x 4), for comparison.
 *
 * Acceptance (issue 19), checked per sample by `looksFailures`: clouds and
 * lava at least 16 px on both axes, the ocean at least 16 px along its swell
 * (x) and twice as wide as tall, fire twice as tall as wide, and every
 * component moving visibly along its drift.
 */
import { parseArgs } from 'node:util';
import { FIELD_COMPONENTS, type FieldComponent } from '../models/field-mixture/components.ts';
import { FIELD_VAE_SCALE } from '../models/field-vae/build.ts';
import { measureLooks, motionAlong, type LooksMeasurement } from './looks-metrics.ts';
import type { RgbFrames } from './looks-metrics.ts';
import { startLatentRenderer, type LatentRenderer } from './looks-pipeline.ts';
import { decodeLatent, LOOKS_WINDOW, looksPrior, openFieldDecoder, renderComponent } from './looks-render.ts';
import { printTable, round } from './table.ts';

/** Smallest structure (1/e autocorrelation length, px at 256 x 256) for the large-structure components. */
export const MIN_LARGE_LENGTH = 16;
/** Fire's height-to-width and the ocean's width-to-height ratio of the 1/e lengths. */
export const MIN_ASPECT = 2;
/** Smallest shift along the drift that counts as visible motion, px per frame (6 px/s at 24 fps). */
export const MIN_MOTION = 0.25;

/** What is wrong with a component's measurement against the acceptance (empty: it passes). */
export function looksFailures(comp: FieldComponent, m: LooksMeasurement): string[] {
  const out: string[] = [];
  const need = (ok: boolean, what: string): void => {
    if (!ok) out.push(`${comp.name}: ${what} (x ${m.lengthX.toFixed(1)} px, y ${m.lengthY.toFixed(1)} px)`);
  };
  if (comp.name === 'clouds' || comp.name === 'lava') need(Math.min(m.lengthX, m.lengthY) >= MIN_LARGE_LENGTH, `structures under ${MIN_LARGE_LENGTH} px`);
  if (comp.name === 'ocean') {
    need(m.lengthX >= MIN_LARGE_LENGTH, `swell under ${MIN_LARGE_LENGTH} px along x`);
    need(m.lengthX >= MIN_ASPECT * m.lengthY, `swell not ${MIN_ASPECT}x wider than tall`);
  }
  if (comp.name === 'fire') need(m.lengthY >= MIN_ASPECT * m.lengthX, `flames not ${MIN_ASPECT}x taller than wide`);
  const along = motionAlong(m.motion, comp.velocity);
  const shift = Math.hypot(m.motion.dy, m.motion.dx);
  // Visible, and mostly in the drift direction (within 60 degrees).
  if (!(along >= MIN_MOTION && along >= 0.5 * shift)) {
    out.push(`${comp.name}: moves ${along.toFixed(2)} px/frame along its drift (shift ${m.motion.dy.toFixed(2)}, ${m.motion.dx.toFixed(2)})`);
  }
  return out;
}

/** One row of the bench: means over the samples. */
export type LooksRow = {
  source: 'prior' | 'pipeline';
  component: string;
  lengthX: number;
  lengthY: number;
  motionY: number;
  motionX: number;
  along: number;
  drift: number;
  pass: boolean;
};

/** Renders sample `i` of component `k` as decoded frames. */
type Render = (k: number, i: number) => Promise<RgbFrames>;

/**
 * Measures `samples` seeded renders of every component: exact prior samples,
 * or with `pipeline` renders of the prompt through an embedded cluster
 * (`steps` DDIM steps).
 */
export async function measureComponents(seed: number, samples: number, pipeline?: { steps: number }): Promise<{ rows: LooksRow[]; failures: string[] }> {
  const decoder = await openFieldDecoder();
  const prior = looksPrior();
  const rows: LooksRow[] = [];
  const failures: string[] = [];
  let renderer: LatentRenderer | undefined;
  try {
    renderer = pipeline ? await startLatentRenderer(2) : undefined;
    const cluster = renderer;
    const render: Render = cluster
      ? async (k, i) => {
          const spec = { promptSchedule: [{ fromFrame: 0, prompt: FIELD_COMPONENTS[k]!.name }], frames: LOOKS_WINDOW.frames, height: 256, width: 256, steps: pipeline!.steps, seed: seed + i };
          return decodeLatent(decoder, (await cluster.render(spec)).data, LOOKS_WINDOW);
        }
      : (k, i) => renderComponent(decoder, prior, k, seed + i);
    for (let k = 0; k < FIELD_COMPONENTS.length; k++) {
      const comp = FIELD_COMPONENTS[k]!;
      const ms: LooksMeasurement[] = [];
      for (let i = 0; i < samples; i++) ms.push(measureLooks(await render(k, i)));
      const own = ms.flatMap((m) => looksFailures(comp, m));
      failures.push(...own);
      const mean = (f: (m: LooksMeasurement) => number): number => round(ms.reduce((s, m) => s + f(m), 0) / ms.length, 2);
      rows.push({
        source: renderer ? 'pipeline' : 'prior',
        component: comp.name,
        lengthX: mean((m) => m.lengthX),
        lengthY: mean((m) => m.lengthY),
        motionY: mean((m) => m.motion.dy),
        motionX: mean((m) => m.motion.dx),
        along: mean((m) => motionAlong(m.motion, comp.velocity)),
        drift: round(Math.hypot(comp.velocity.vy, comp.velocity.vx) * FIELD_VAE_SCALE, 2),
        pass: own.length === 0,
      });
    }
  } finally {
    await decoder.release();
    await renderer?.close();
  }
  return { rows, failures };
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean' },
      seed: { type: 'string', default: '1' },
      samples: { type: 'string', default: '2' },
      pipeline: { type: 'boolean' },
      steps: { type: 'string', default: '25' },
    },
  });
  const seed = Number(values.seed);
  const samples = Number(values.samples);
  const steps = Number(values.steps);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${values.seed}`);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`--samples must be a positive integer, got ${values.samples}`);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps must be a positive integer, got ${values.steps}`);
  const prior = await measureComponents(seed, samples);
  const piped = values.pipeline ? await measureComponents(seed, samples, { steps }) : { rows: [], failures: [] };
  const rows = [...prior.rows, ...piped.rows];
  const failures = [...prior.failures, ...piped.failures.map((f) => `pipeline ${f}`)];
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ seed, samples, rows, failures }, null, 2)}\n`);
  } else {
    const what = values.pipeline ? `exact prior samples and ${steps}-step pipeline renders` : 'exact prior samples';
    process.stdout.write(`field-mixture looks: ${samples} ${what} per component (seed ${seed}), 16 frames decoded to 256x256 by field-decoder\n`);
    process.stdout.write('lengths: 1/e luminance autocorrelation (px); motion: frame-to-frame shift (px/frame, y down); along: part along the drift\n');
    printTable(rows);
    for (const f of failures) process.stdout.write(`FAIL ${f}\n`);
  }
  if (failures.length > 0) process.exitCode = 1;
}
