import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of the CLI entry, for spawning worker and coordinator processes. */
export const CLI_MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');

/** A child process started from the CLI that announced its address. */
export interface ChildServer {
  readonly process: ChildProcess;
  readonly address: string;
  /** host:port of its `/metrics` endpoint, when it serves one (`--metrics-listen`). */
  readonly metrics: string | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns `propeller <args>` as a separate Node process running TypeScript
 * through tsx, and waits for its `{"event":"listening"}` line on stdout.
 * Its stderr (logs) goes to `stderr` when given.
 */
export function spawnCliServer(args: string[], opts: { env?: NodeJS.ProcessEnv; stderr?: (line: string) => void; startTimeoutMs?: number; prefix?: readonly string[] } = {}): Promise<ChildServer> {
  // `prefix` runs it through another command that execs it in place (e.g. `ip netns exec NAME`: the same process).
  const command = [...(opts.prefix ?? []), process.execPath, '--import', import.meta.resolve('tsx'), CLI_MAIN, ...args];
  const child = spawn(command[0]!, command.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  createInterface({ input: child.stderr! }).on('line', (line) => opts.stderr?.(line));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`propeller ${args[0]} did not start within ${opts.startTimeoutMs ?? 60_000} ms`));
    }, opts.startTimeoutMs ?? 60_000);
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`propeller ${args[0]} exited during start (code ${code}, signal ${signal})`));
    };
    child.once('exit', onExit);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let msg: { event?: string; address?: string; metrics?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.event !== 'listening' || !msg.address) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      const exited = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
      resolve({
        process: child,
        address: msg.address,
        metrics: msg.metrics,
        stop: async (graceMs = 10_000) => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
            await exited;
            clearTimeout(t);
          }
        },
      });
    });
  });
}
