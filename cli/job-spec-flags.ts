import { readFileSync } from 'node:fs';
import type { JobSpec } from '../common/proto/generated/propeller/v1/JobSpec.ts';
import { intFlag } from './args.ts';
import { toSeed, type Seed } from '../common/seed.ts';
import { parseNpy } from '../common/npy.ts';
import { encodeTensor } from '../common/tensor-codec.ts';
import type { Tensor } from '../common/proto/generated/propeller/v1/Tensor.ts';

/** Flags of `propeller submit` that make up a job spec. */
export const SPEC_FLAGS = {
  model: { type: 'string', default: 'field-mixture' },
  prompt: { type: 'string', default: '' },
  schedule: { type: 'string' },
  frames: { type: 'string', default: '48' },
  height: { type: 'string', default: '256' },
  width: { type: 'string', default: '256' },
  fps: { type: 'string', default: '24' },
  steps: { type: 'string', default: '30' },
  eta: { type: 'string', default: '0' },
  scheduler: { type: 'string' },
  sampler: { type: 'string' },
  window: { type: 'string' },
  tolerance: { type: 'string' },
  policy: { type: 'string' },
  seed: { type: 'string' },
  blend: { type: 'string' },
  'chunk-overlap': { type: 'string' },
  'noise-init': { type: 'string' },
  'tile-overlap': { type: 'string' },
  format: { type: 'string', default: 'mp4' },
  crf: { type: 'string' },
  priority: { type: 'string', default: '0' },
  mode: { type: 'string' },
  input: { type: 'string' },
  'input-kind': { type: 'string' },
  strength: { type: 'string' },
  guidance: { type: 'string' },
  tensor: { type: 'string', multiple: true },
  'preview-every': { type: 'string' },
  'preview-frames': { type: 'string' },
  'preview-width': { type: 'string' },
  'preview-source': { type: 'string' },
} as const;

export const SPEC_HELP = `  --model NAME             model (default field-mixture; see 'propeller models')
  --prompt TEXT            prompt, e.g. "clouds"
  --schedule F:TEXT,...    prompt schedule, e.g. "0:clouds,24:fire" (from frame F on)
  --frames N --height H --width W --fps N   video size (default 48 frames, 256x256, 24 fps)
  --scheduler KIND         ddim|ddpm|euler (VP models), flow_euler (flow models); default: the model's
  --steps N --eta E        steps (default 30) and DDIM stochasticity (default 0)
  --sampler sequential|picard|auto  parallel sampling over the steps (default: the coordinator's, sequential
                           unless it runs with --default-sampler auto); auto picks the window every round
                           from the workers nobody else needs
  --window P --tolerance T --policy paradigms|adaptive|forecast   Picard settings (default 8, 0.1, forecast;
                           for auto, P is its largest window, default the coordinator's limit)
  --seed N                 random seed, 0 .. 2^64-1 (default: random)
  --blend KIND             window blend: linear|uniform|cosine|gaussian
  --chunk-overlap N --tile-overlap N   overlaps in latent frames / pixels (0 = isolated windows)
  --noise-init independent|freenoise   initial noise across chunks
  --format mp4|webm|latent --crf N     output
  --priority N             higher runs first
  --mode MODE              text_to_video (default) | image_to_video | video_to_video | extend | expand
  --input FILE             image or video to start from (read here and uploaded; needed by every mode but text_to_video)
  --input-kind image|video how to take --input (default: detected; an image has one frame)
  --strength S             video_to_video: share of the steps re-run, 0..1 (default 0.6)
  --guidance S             classifier-free guidance scale (default: the model's; 1 = none)
  --tensor NAME=FILE.npy   upload a conditioning tensor the model's manifest names, e.g.
                           prompt_embeds=embeds.npy (repeatable; read here and uploaded)
  --preview-every S --preview-frames N --preview-width W --preview-source auto|map|decoder
                           live previews of the prediction on Watch, at most every S seconds (0: every step),
                           N frames side by side, W pixels wide (default 5, 4, 512, auto: the model's preview map,
                           else its decoder); any of them, or --preview FILE, turns previews on (docs/previews.md)`;

/** Builds a JobSpec from parsed flags; errors name the flag. */
export function specFromFlags(v: Record<string, unknown>): JobSpec {
  const schedule = v.schedule
    ? String(v.schedule)
        .split(',')
        .map((part, i) => {
          const m = /^\s*(\d+)\s*:(.*)$/.exec(part);
          if (!m) throw new Error(`--schedule entry ${i + 1} "${part}" must look like FRAME:PROMPT`);
          return { fromFrame: Number(m[1]), prompt: m[2]!.trim() };
        })
    : [];
  const eta = Number(v.eta);
  if (!Number.isFinite(eta)) throw new Error(`--eta must be a number, got "${v.eta}"`);
  const strength = v.strength !== undefined ? Number(v.strength) : undefined;
  if (strength !== undefined && !Number.isFinite(strength)) throw new Error(`--strength must be a number, got "${v.strength}"`);
  return {
    model: String(v.model),
    prompt: schedule.length ? '' : String(v.prompt ?? ''),
    promptSchedule: schedule,
    frames: intFlag('frames', v.frames),
    height: intFlag('height', v.height),
    width: intFlag('width', v.width),
    fps: intFlag('fps', v.fps),
    steps: intFlag('steps', v.steps),
    eta,
    scheduler: (v.scheduler as string | undefined) ?? '',
    sampler: {
      kind: (v.sampler as string | undefined) ?? '',
      window: v.window !== undefined ? intFlag('window', v.window) : 0,
      tolerance: v.tolerance !== undefined ? Number(v.tolerance) : 0,
      policy: (v.policy as string | undefined) ?? '',
    },
    seed: v.seed !== undefined ? seedFlag(v.seed) : Math.floor(Math.random() * 0xffffffff),
    layout: {
      blend: (v.blend as string | undefined) ?? '',
      ...(v['chunk-overlap'] !== undefined ? { chunkOverlap: intFlag('chunk-overlap', v['chunk-overlap']) } : {}),
      ...(v['tile-overlap'] !== undefined ? { tileOverlap: intFlag('tile-overlap', v['tile-overlap']) } : {}),
      noiseInit: (v['noise-init'] as string | undefined) ?? '',
    },
    output: { format: String(v.format), crf: v.crf !== undefined ? intFlag('crf', v.crf) : 0 },
    priority: Number(v.priority),
    mode: (v.mode as string | undefined) ?? '',
    ...(v.input !== undefined ? { input: { data: readInput(String(v.input)), kind: (v['input-kind'] as string | undefined) ?? '' } } : {}),
    ...(strength !== undefined ? { strength } : {}),
    ...(v.guidance !== undefined ? { guidance: numberFlag('guidance', v.guidance) } : {}),
    ...(v.tensor !== undefined ? { conditioning: readTensors(v.tensor as string[]) } : {}),
    ...previewsFromFlags(v),
  };
}

/** `spec.previews` from the --preview-* flags; on with defaults for a `--preview FILE` alone (submit --wait). */
function previewsFromFlags(v: Record<string, unknown>): Pick<JobSpec, 'previews'> {
  const given = ['preview-every', 'preview-frames', 'preview-width', 'preview-source'].some((f) => v[f] !== undefined);
  if (!given && v.preview === undefined) return {};
  return {
    previews: {
      ...(v['preview-every'] !== undefined ? { everySeconds: numberFlag('preview-every', v['preview-every']) } : {}),
      frames: v['preview-frames'] !== undefined ? intFlag('preview-frames', v['preview-frames']) : 0,
      width: v['preview-width'] !== undefined ? intFlag('preview-width', v['preview-width']) : 0,
      source: (v['preview-source'] as string | undefined) ?? '',
    },
  };
}

/** `--seed`: any uint64, kept exact above 2^53 (sent as its decimal string). */
export function seedFlag(v: unknown): Seed {
  try {
    return toSeed(String(v).trim());
  } catch {
    throw new Error(`--seed must be an integer in [0, 2^64), got "${String(v)}"`);
  }
}

function numberFlag(name: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${String(v)}"`);
  return n;
}

/** `--tensor NAME=FILE.npy` flags -> job tensors (float32 on the wire). */
function readTensors(flags: readonly string[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const flag of flags) {
    const m = /^([^=]+)=(.+)$/.exec(flag);
    if (!m) throw new Error(`--tensor "${flag}" must look like NAME=FILE.npy`);
    let array;
    try {
      array = parseNpy(readFileSync(m[2]!));
    } catch (err) {
      throw new Error(`--tensor ${m[1]}=${m[2]}: ${err instanceof Error ? err.message : String(err)}`);
    }
    out[m[1]!] = encodeTensor(array.data, array.shape, 'float32');
  }
  return out;
}

/** The bytes of a local input file: the CLI uploads them, the coordinator never sees the path. */
function readInput(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`--input ${path}: cannot read it (${err instanceof Error ? err.message : String(err)})`);
  }
}
