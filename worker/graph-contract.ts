import type * as ort from 'onnxruntime-node';
import { conditioningShape, type DenoiserManifest, type ModelManifest } from '../common/manifest.ts';

/**
 * The contract between a manifest and its ONNX graph, checked once when a
 * worker loads the model: every input the manifest names exists with the
 * rank, static sizes and element type the worker will feed, and the output
 * likewise. A mismatch makes the model unavailable with a reason that names
 * the manifest field (`manifest.json: nativeFrames: ...`), which
 * `propeller models` shows; the worker keeps serving its other models.
 */

type Meta = ort.InferenceSession.ValueMetadata;
type TensorMeta = Extract<Meta, { isTensor: true }>;

/** Element types the worker feeds float tensors as. */
export type FloatType = 'float32' | 'float16';

/** Element type the worker feeds the timestep as (whatever the graph declares among these). */
export type TimestepType = 'float32' | 'float16' | 'int64';

/** What the runner needs to know about a checked denoiser graph. */
export interface DenoiserIo {
  timestepType: TimestepType;
  /** Channels of the sample input: latent channels plus concatenated image latents. */
  sampleChannels: number;
}

/** Checks `m` against the session's inputs and outputs; returns the reason it does not fit, or undefined. */
export function checkGraphContract(m: ModelManifest, session: Pick<ort.InferenceSession, 'inputMetadata' | 'outputMetadata' | 'inputNames' | 'outputNames'>): string | undefined {
  const inputs = new Map(session.inputMetadata.map((v) => [v.name, v]));
  const outputs = new Map(session.outputMetadata.map((v) => [v.name, v]));
  const fail = (field: string, why: string): string => `manifest.json: ${field}: ${why}`;
  const has = (names: Map<string, Meta>) => [...names.keys()].join(', ');
  const float = (m.kind === 'denoiser' ? m.dtype : undefined) ?? 'float32';

  if (m.kind === 'text_encoder') {
    const input = inputs.get(m.input);
    if (!input) return fail('input', `graph has no input "${m.input}" (has ${has(inputs)})`);
    const ti = tensorMeta(input);
    if (ti && (ti.shape.length !== 2 || ti.type !== 'int64')) return fail('input', `graph input "${m.input}" is ${ti.type} ${fmt(ti.shape)}; token ids [B, maxLength] int64 expected`);
    if (ti && typeof ti.shape[1] === 'number' && ti.shape[1] >= 0 && ti.shape[1] !== m.maxLength) return fail('maxLength', `${m.maxLength} does not match axis 1 of graph input "${m.input}", ${fmt(ti.shape)}`);
    const output = outputs.get(m.output);
    if (!output) return fail('output', `graph has no output "${m.output}" (has ${has(outputs)})`);
    const to = tensorMeta(output);
    if (to && to.shape.length !== 3) return fail('output', `graph output "${m.output}" has rank ${to.shape.length} (${fmt(to.shape)}); hidden states [B, maxLength, hiddenSize] expected`);
    if (to && typeof to.shape[2] === 'number' && to.shape[2] >= 0 && to.shape[2] !== m.hiddenSize) return fail('hiddenSize', `${m.hiddenSize} does not match axis 2 of graph output "${m.output}", ${fmt(to.shape)}`);
    return undefined;
  }
  if (m.kind !== 'denoiser') {
    const input = inputs.get(m.input);
    if (!input) return fail('input', `graph has no input "${m.input}" (has ${has(inputs)})`);
    const output = outputs.get(m.output);
    if (!output) return fail('output', `graph has no output "${m.output}" (has ${has(outputs)})`);
    for (const [field, meta] of [['input', input], ['output', output]] as const) {
      const t = tensorMeta(meta);
      if (t && t.shape.length > 0 && t.shape.length !== 4) return fail(field, `graph ${field} "${meta.name}" has rank ${t.shape.length} (${fmt(t.shape)}); a ${m.kind} takes frames [N, C, H, W]`);
    }
    return undefined;
  }

  const frameFirst = m.sampleLayout === 'BFCHW';
  const io = denoiserIo(m);
  const want = frameFirst
    ? ['B', m.nativeFrames, io.sampleChannels, m.nativeHeight, m.nativeWidth]
    : ['B', io.sampleChannels, m.nativeFrames, m.nativeHeight, m.nativeWidth];
  const axisField = frameFirst
    ? ['maxBatch', 'nativeFrames', 'latentChannels', 'nativeHeight', 'nativeWidth']
    : ['maxBatch', 'latentChannels', 'nativeFrames', 'nativeHeight', 'nativeWidth'];

  const sample = inputs.get(m.inputs.sample);
  if (!sample) return fail('inputs.sample', `graph has no input "${m.inputs.sample}" (has ${has(inputs)})`);
  const sampleProblem = checkTensor(sample, want, float, 'inputs.sample', axisField, m, frameFirst);
  if (sampleProblem) return sampleProblem;

  const timestep = inputs.get(m.inputs.timestep);
  if (!timestep) return fail('inputs.timestep', `graph has no input "${m.inputs.timestep}" (has ${has(inputs)})`);
  const tt = tensorMeta(timestep);
  if (tt && tt.shape.length !== 1) return fail('inputs.timestep', `graph input "${timestep.name}" has rank ${tt.shape.length} (${fmt(tt.shape)}); the worker feeds one timestep per item, [B]`);
  if (tt && !['float32', 'float16', 'int64'].includes(tt.type)) return fail('inputs.timestep', `graph input "${timestep.name}" is ${tt.type}; float32, float16 or int64 expected`);

  if (m.inputs.classWeights) {
    const cw = inputs.get(m.inputs.classWeights);
    if (!cw) return fail('inputs.classWeights', `graph has no input "${m.inputs.classWeights}" (has ${has(inputs)})`);
    const problem = checkTensor(cw, ['B', m.classes.length], 'float32', 'inputs.classWeights', ['maxBatch', 'classes'], m, false);
    if (problem) return problem;
  }

  const fed = new Set([m.inputs.sample, m.inputs.timestep, m.inputs.classWeights].filter((v): v is string => !!v));
  for (const [i, c] of (m.conditioning ?? []).entries()) {
    if (c.source === 'image_latent') continue; // concatenated to the sample: checked with its channels above
    const field = `conditioning[${i}].input`;
    const meta = inputs.get(c.input);
    if (!meta) return fail(field, `graph has no input "${c.input}" (has ${has(inputs)})`);
    const shape = conditioningShape(c);
    const problem = checkTensor(meta, ['B', ...shape], float, field, ['maxBatch', ...shape.map(() => c.source === 'embeddings' ? `conditioning[${i}].shape` : `conditioning[${i}].values`)], m, false);
    if (problem) return problem;
    fed.add(c.input);
  }
  // Every graph input must be fed: one the manifest does not name would fail every request.
  for (const name of inputs.keys()) {
    if (!fed.has(name)) return fail('conditioning', `graph input "${name}" is not named by the manifest (inputs or conditioning), so the worker could not feed it`);
  }

  const output = outputs.get(m.output);
  if (!output) return fail('output', `graph has no output "${m.output}" (has ${has(outputs)})`);
  const outWant = frameFirst ? ['B', m.nativeFrames, m.latentChannels, m.nativeHeight, m.nativeWidth] : ['B', m.latentChannels, m.nativeFrames, m.nativeHeight, m.nativeWidth];
  const outFields = frameFirst
    ? ['maxBatch', 'nativeFrames', 'latentChannels', 'nativeHeight', 'nativeWidth']
    : ['maxBatch', 'latentChannels', 'nativeFrames', 'nativeHeight', 'nativeWidth'];
  return checkTensor(output, outWant, float, 'output', outFields, m, frameFirst);
}

/** Sample channels and timestep type of a denoiser (the timestep type is refined from the graph by the runner). */
export function denoiserIo(m: DenoiserManifest, session?: Pick<ort.InferenceSession, 'inputMetadata'>): DenoiserIo {
  let extra = 0;
  for (const c of m.conditioning ?? []) if (c.source === 'image_latent') extra += c.channels;
  let timestepType: TimestepType = 'float32';
  const meta = session?.inputMetadata.find((v) => v.name === m.inputs.timestep);
  const t = meta ? tensorMeta(meta) : undefined;
  if (t && (t.type === 'float16' || t.type === 'int64')) timestepType = t.type;
  return { timestepType, sampleChannels: m.latentChannels + extra };
}

function tensorMeta(v: Meta): TensorMeta | undefined {
  return v.isTensor ? v : undefined;
}

/**
 * Checks rank, static sizes (symbolic axes match anything) and element type
 * of one graph value against `want` ('B' = the dynamic batch axis).
 */
function checkTensor(
  meta: Meta,
  want: readonly (number | string)[],
  dtype: string,
  field: string,
  axisFields: readonly string[],
  m: DenoiserManifest,
  frameFirst: boolean,
): string | undefined {
  const t = tensorMeta(meta);
  if (!t) return `manifest.json: ${field}: graph value "${meta.name}" is not a tensor`;
  const what = `graph ${field === 'output' ? 'output' : 'input'} "${meta.name}"`;
  if (t.shape.length !== want.length) {
    return `manifest.json: ${field}: ${what} has rank ${t.shape.length} (${fmt(t.shape)}); the manifest describes rank ${want.length} ${fmt(want)}${want.length === 5 ? (frameFirst ? ' (sampleLayout BFCHW)' : ' (sampleLayout BCFHW)') : ''}`;
  }
  for (let i = 0; i < want.length; i++) {
    const have = t.shape[i];
    const w = want[i];
    if (typeof w === 'number' && typeof have === 'number' && have >= 0 && have !== w) {
      const extra = axisFields[i] === 'latentChannels' && field === 'inputs.sample' && w !== m.latentChannels ? ` (${m.latentChannels} latent + ${w - m.latentChannels} image-latent channels)` : '';
      return `manifest.json: ${axisFields[i]}: ${w}${extra} does not match axis ${i} of ${what}, ${fmt(t.shape)}`;
    }
  }
  if (t.type !== dtype) return `manifest.json: dtype: the manifest says ${dtype} but ${what} is ${t.type}`;
  return undefined;
}

function fmt(shape: readonly (number | string)[]): string {
  return `[${shape.map((d) => (typeof d === 'number' && d < 0 ? '?' : String(d))).join(', ')}]`;
}
