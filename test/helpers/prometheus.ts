/**
 * A real Prometheus (Debian's package, which npm test installs through
 * scripts/test-prepare.ts) started by a test with its own config and data
 * directory on a free loopback port, and instant queries through its HTTP
 * API.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { debianBinary } from './binaries.ts';
import { waitFor } from './cluster.ts';
import { freePort } from './servers.ts';

const run = promisify(execFile);

/** One series of an instant vector. */
export interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

/** A running Prometheus. */
export interface TestPrometheus {
  /** http://127.0.0.1:PORT */
  readonly api: string;
  /** `promtool` of the same package. */
  readonly promtool: string;
  /** An instant query; asserts it succeeded and returned a vector. */
  query(expr: string): Promise<PromResult[]>;
  /** SIGTERM; resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * Writes `config` (a prometheus.yml as an object) into `dir`, checks it with
 * promtool, starts Prometheus on it and waits until it is ready and every
 * one of `targets` scrape targets is up.
 */
export async function startPrometheus(config: Record<string, unknown>, dir: string, targets: number): Promise<TestPrometheus> {
  const promtool = debianBinary('promtool', 'prometheus');
  const bin = debianBinary('prometheus', 'prometheus');
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  await run(promtool, ['check', 'config', join(dir, 'prometheus.yml')]);
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(bin, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
  const query = async (expr: string): Promise<PromResult[]> => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromResult[] } };
    assert.equal(body.status, 'success', `${expr}: ${body.error}`);
    assert.equal(body.data!.resultType, 'vector', expr);
    return body.data!.result;
  };
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor('prometheus ready', 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${stderr.join('')}`);
      return (await fetch(`${api}/-/ready`).catch(() => undefined))?.ok ? true : undefined;
    });
    await waitFor('all targets up', 30_000, async () => ((await query('up == 1')).length === targets ? true : undefined));
  } catch (err) {
    await stop();
    throw err;
  }
  return { api, promtool, query, stop };
}
