import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { errorMessage } from '../common/errors.ts';

/**
 * Execution providers from the worker's device setting, and the check that
 * the configured one is really there before any model loads: a worker told
 * to run on `cuda:1` that silently fell back to the CPU (or served nothing)
 * would be worse than one that refuses to start and says why.
 */

/** Thrown when the configured execution provider cannot run here. */
export class ExecutionProviderError extends Error {
  override readonly name = 'ExecutionProviderError';
  constructor(
    readonly device: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The ORT execution providers for a device string: `cpu`, `cuda` / `cuda:N` (with the CPU for ops CUDA lacks). */
export function executionProviders(device: string): ort.InferenceSession.ExecutionProviderConfig[] {
  if (device === 'cpu') return ['cpu'];
  const m = /^cuda(?::(\d+))?$/.exec(device);
  if (!m) throw new ExecutionProviderError(device, `device "${device}": must be cpu, cuda or cuda:N`);
  return [{ name: 'cuda', deviceId: Number(m[1] ?? 0) } as ort.InferenceSession.ExecutionProviderConfig, 'cpu'];
}

/** What to do when CUDA is missing: the install step and the fallback. */
const CUDA_HINT =
  'install onnxruntime-node with its CUDA 12 binaries on this node (ONNXRUNTIME_NODE_INSTALL=cuda12 npm install; needs an NVIDIA driver, CUDA 12 and cuDNN 9), check the device id against nvidia-smi, or start the worker with --device cpu';

/**
 * Creates a session for a one-node graph with exactly the configured
 * provider (no CPU fallback), so a missing library, driver or device shows
 * up here, named, instead of as every model failing to load.
 */
export async function probeExecutionProvider(device: string): Promise<void> {
  const providers = executionProviders(device);
  if (device === 'cpu') return;
  const backends = ort.listSupportedBackends?.() ?? [];
  const cuda = backends.find((b) => b.name === 'cuda');
  if (backends.length > 0 && !cuda) {
    throw new ExecutionProviderError(device, `execution provider "cuda" (device ${device}) is not in this onnxruntime-node build (it has ${backends.map((b) => b.name).join(', ')}); ${CUDA_HINT}`);
  }
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(probeModel(), { executionProviders: providers.slice(0, 1), logSeverityLevel: 4 });
    await session.run({ x: new ort.Tensor('float32', Float32Array.of(1), [1]) });
  } catch (err) {
    throw new ExecutionProviderError(device, `execution provider "cuda" (device ${device}) is not available: ${errorMessage(err)}; ${CUDA_HINT}`, { cause: err });
  } finally {
    await session?.release();
  }
}

/** y = x + x on float32 [1]: the smallest graph a provider must run. */
function probeModel(): Uint8Array {
  const { onnx } = onnxProto;
  const value = (name: string) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } } });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'propeller',
    graph: { name: 'provider_probe', node: [{ opType: 'Add', input: ['x', 'x'], output: ['y'] }], input: [value('x')], output: [value('y')] },
  }).finish();
}
