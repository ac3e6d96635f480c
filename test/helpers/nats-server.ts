import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { debianBinary } from './binaries.ts';

/** Slow CI machines take seconds to start a process; a healthy server is ready in ~10 ms. */
export const DEFAULT_START_TIMEOUT_MS = 20_000;
/** How long a SIGTERM gets before SIGKILL. */
export const DEFAULT_STOP_TIMEOUT_MS = 5_000;
/** The tail of the server's log kept for error messages. */
const LOG_LIMIT = 64 * 1024;
const LISTENING = /Listening for client connections on [^\s]*:(\d+)/;
const READY = 'Server is ready';

export interface NatsServerOptions {
  /** How long one start may take before it fails with the server's log. */
  startTimeoutMs?: number;
  /** How long a SIGTERM gets before SIGKILL (stop, halt, restart). */
  stopTimeoutMs?: number;
}

/** The server did not come up in time, or exited while starting; `log` is what it wrote. */
export class NatsServerStartError extends Error {
  override readonly name = 'NatsServerStartError';
  constructor(
    message: string,
    readonly log: string,
    options?: { cause?: unknown },
  ) {
    super(`${message}\n--- nats-server log ---\n${log.trimEnd()}`, options);
  }
}

/**
 * A real `nats-server -js` of this test file's own, on a free loopback port
 * with a temporary store. States: running -> (halt) halted -> (resume)
 * running; stop() from any state ends it for good.
 */
export interface NatsServer {
  /** `nats://127.0.0.1:PORT`, the same across halt/resume. */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory, kept across halt/resume, removed by stop(). */
  readonly storeDir: string;
  /** What the server wrote so far (the last 64 KiB), across restarts. */
  log(): string;
  /** Ends the process but keeps port and store: the broker gone mid-call. SIGKILL skips the graceful shutdown. */
  halt(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and store, after halt(); resolves once it accepts connections. */
  resume(): Promise<void>;
  /** halt(signal) then resume(). */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /** Ends the process and removes the store; idempotent (every call gets the same promise). */
  stop(): Promise<void>;
}

/**
 * Starts `nats-server -js -a 127.0.0.1 -p -1 -sd <tmp>` and resolves once it
 * accepts connections. Fails (never skips) when nats-server is missing
 * (Debian package nats-server) or does not come up, with its log.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const server = new LocalNatsServer(debianBinary('nats-server', 'nats-server'), {
    startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    stopTimeoutMs: options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
  });
  try {
    await server.resume();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

type State = 'halted' | 'running' | 'stopped';

class LocalNatsServer implements NatsServer {
  readonly storeDir = mkdtempSync(join(tmpdir(), 'propeller-nats-'));
  #port = -1;
  #state: State = 'halted';
  #child?: ChildProcess;
  #log = '';
  #stopping?: Promise<void>;
  // A test process that ends without its after() hook must not leave the server or its store behind.
  readonly #killOnExit = () => {
    this.#child?.kill('SIGKILL');
    rmSync(this.storeDir, { recursive: true, force: true });
  };

  constructor(
    private readonly binary: string,
    private readonly options: Required<NatsServerOptions>,
  ) {
    process.once('exit', this.#killOnExit);
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.#port}`;
  }

  log(): string {
    return this.#log;
  }

  async halt(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.#state !== 'running') throw new Error(`nats-server: halt() while ${this.#state}`);
    this.#state = 'halted';
    await this.#end(signal);
  }

  async resume(): Promise<void> {
    if (this.#state !== 'halted') throw new Error(`nats-server: resume() while ${this.#state}`);
    this.#state = 'running';
    const first = this.#port < 0;
    // -p -1 picks a free port the first time; later starts take the same one back.
    const child = spawn(this.binary, ['-js', '-a', '127.0.0.1', '-p', String(this.#port), '-sd', this.storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const append = (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString()).slice(-LOG_LIMIT);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    try {
      const port = await this.#waitForReady(child);
      if (first) this.#port = port;
      await this.#waitForConnection(Date.now() + this.options.startTimeoutMs);
    } catch (err) {
      this.#state = 'halted';
      await this.#end('SIGKILL');
      throw err;
    }
  }

  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.halt(signal);
    await this.resume();
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'stopped';
      try {
        await this.#end('SIGTERM');
      } finally {
        process.removeListener('exit', this.#killOnExit);
        rmSync(this.storeDir, { recursive: true, force: true });
      }
    })();
    return this.#stopping;
  }

  /** The port from the "Listening" line, once "Server is ready" (JetStream recovered) follows it. */
  #waitForReady(child: ChildProcess): Promise<number> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error, port?: number) => {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.stderr!.off('data', check);
        child.off('exit', exited);
        child.off('error', failed);
        if (err) reject(err);
        else resolve(port!);
      };
      const check = () => {
        const since = this.#log.lastIndexOf('Starting nats-server');
        const log = since >= 0 ? this.#log.slice(since) : this.#log;
        const listening = LISTENING.exec(log);
        if (listening && log.includes(READY, listening.index)) done(undefined, Number(listening[1]));
      };
      const exited = (code: number | null, signal: NodeJS.Signals | null) =>
        done(new NatsServerStartError(`nats-server exited while starting (${signal ?? `code ${code}`})`, this.#log));
      const failed = (err: Error) => done(new NatsServerStartError(`nats-server could not be started: ${err.message}`, this.#log, { cause: err }));
      const timer = setTimeout(() => done(new NatsServerStartError(`nats-server not ready within ${this.options.startTimeoutMs} ms`, this.#log)), this.options.startTimeoutMs);
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      child.once('exit', exited);
      child.once('error', failed);
    });
  }

  /** A TCP connection to the client port succeeds (the log line comes just before the accept loop). */
  async #waitForConnection(deadline: number): Promise<void> {
    for (;;) {
      const err = await new Promise<Error | undefined>((resolve) => {
        const socket = tcpConnect(this.#port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(undefined);
        });
        socket.once('error', (e) => {
          socket.destroy();
          resolve(e);
        });
      });
      if (!err) return;
      if (Date.now() > deadline) throw new NatsServerStartError(`nats-server on port ${this.#port} refuses connections: ${err.message}`, this.#log, { cause: err });
      await sleep(50);
    }
  }

  /** Ends the current process, if any: `signal`, then SIGKILL after the stop timeout. */
  async #end(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    // No pid: the spawn itself failed, and no 'exit' may ever come.
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), this.options.stopTimeoutMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
