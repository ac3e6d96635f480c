/**
 * The `propeller` command. Only this file reads the environment; commands
 * (commands.ts) take options, and servers install their own signal handlers.
 */
import type { CliEnv } from './args.ts';
import { runCli } from './commands.ts';
import { defaultModelDir } from './model-dir.ts';
import type { LogLevel } from '../common/logger.ts';
import { visibleGpuUuid } from '../worker/gpu-identity.ts';

const env: CliEnv = {
  address: process.env.PROPELLER_ADDRESS ?? '127.0.0.1:7400',
  logLevel: (process.env.PROPELLER_LOG_LEVEL ?? 'info') as LogLevel,
  modelDir: process.env.PROPELLER_MODEL_DIR ?? defaultModelDir(),
  token: process.env.PROPELLER_TOKEN || undefined,
  tlsCa: process.env.PROPELLER_TLS_CA || undefined,
  tokens: process.env.PROPELLER_TOKENS || undefined,
  gpuUuid: process.env.PROPELLER_GPU_UUID || visibleGpuUuid(process.env.NVIDIA_VISIBLE_DEVICES),
};

runCli(process.argv.slice(2), env, process.env.PROPELLER_NATS_URL || undefined).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    const e = err as { details?: string; message?: string; code?: number };
    // grpc status 14 with no server behind the address: say what to check.
    if (e.code === 14 && /ECONNREFUSED|No connection established/.test(e.details ?? '')) {
      process.stderr.write(`propeller: cannot reach the coordinator (${e.details}); is it running? Set --address or PROPELLER_ADDRESS.\n`);
      process.exit(1);
    }
    process.stderr.write(`propeller: ${e.details ?? e.message ?? String(err)}\n`);
    process.exit(1);
  },
);
