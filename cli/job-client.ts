import * as grpc from '@grpc/grpc-js';
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { once } from 'node:events';
import { messageLimitOptions } from '../common/grpc-options.ts';
import { channelCredentials, type ClientTlsOptions } from '../common/tls.ts';
import { loadProtos } from '../common/proto/load.ts';
import type { JobServiceClient } from '../common/proto/generated/propeller/v1/JobService.ts';
import type { Job__Output } from '../common/proto/generated/propeller/v1/Job.ts';
import type { JobEvent__Output } from '../common/proto/generated/propeller/v1/JobEvent.ts';
import type { JobSpec } from '../common/proto/generated/propeller/v1/JobSpec.ts';
import type { ListWorkersResponse__Output } from '../common/proto/generated/propeller/v1/ListWorkersResponse.ts';
import type { ListModelsResponse__Output } from '../common/proto/generated/propeller/v1/ListModelsResponse.ts';
import type { ListJobsResponse__Output } from '../common/proto/generated/propeller/v1/ListJobsResponse.ts';

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELED']);
/** Jobs asked for per List call when `list` follows pages. */
const LIST_PAGE_SIZE = 500;

/** How a JobClient proves who it is and checks the coordinator. */
export interface JobClientSecurity {
  /** Bearer token of the tenant (sent as `authorization: Bearer <token>` on every call). */
  token?: string | undefined;
  /** TLS to the coordinator: its CA (and a client certificate when it requires one). Plaintext when absent. */
  tls?: ClientTlsOptions | undefined;
}

/**
 * Promise-based client of the coordinator's JobService, used by the CLI,
 * tests and benches. Every call carries a deadline.
 */
export class JobClient {
  private readonly client: JobServiceClient;

  constructor(
    readonly address: string,
    private readonly timeoutMs = 30_000,
    security: JobClientSecurity = {},
  ) {
    const Ctor = loadProtos().jobs.propeller.v1.JobService;
    const token = security.token;
    // An interceptor rather than call credentials: those need TLS, and a token on loopback may go without.
    const interceptors: grpc.Interceptor[] = token
      ? [
          (options, nextCall) =>
            new grpc.InterceptingCall(nextCall(options), {
              start: (metadata, listener, next) => {
                metadata.set('authorization', `Bearer ${token}`);
                next(metadata, listener);
              },
            }),
        ]
      : [];
    this.client = new Ctor(address, channelCredentials(security.tls, '--tls-ca'), { ...messageLimitOptions(), interceptors });
  }

  /**
   * Waits up to `timeoutMs` for the channel to connect (like grpcurl's
   * -connect-timeout), so a command run right after the coordinator was
   * started does not fail while it binds. Rejects with a message naming the
   * address when nothing accepts connections in time.
   */
  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (err) => {
        if (!err) return resolve();
        reject(new Error(`cannot reach the coordinator at ${this.address} within ${timeoutMs / 1000} s; is it running? Set --address or PROPELLER_ADDRESS (or --connect-timeout)`));
      });
    });
  }

  submit(spec: JobSpec, clientRequestId = ''): Promise<Job__Output> {
    return this.unary((cb, o) => this.client.Submit({ spec, clientRequestId }, o, cb));
  }

  get(id: string): Promise<Job__Output> {
    return this.unary((cb, o) => this.client.Get({ id }, o, cb));
  }

  /**
   * Jobs newest first, following pages until `limit` jobs (0: every job).
   * Pages are cursors, so jobs created meanwhile do not repeat or shift them.
   */
  async list(states: string[] = [], limit = 0): Promise<Job__Output[]> {
    const jobs: Job__Output[] = [];
    let pageToken = '';
    do {
      const pageSize = limit > 0 ? Math.min(LIST_PAGE_SIZE, limit - jobs.length) : LIST_PAGE_SIZE;
      const page = await this.listPage({ states, pageSize, pageToken });
      jobs.push(...page.jobs);
      pageToken = page.nextPageToken;
    } while (pageToken && (limit <= 0 || jobs.length < limit));
    // A coordinator from before pages ignores page_size and answers up to `limit` at once.
    return limit > 0 ? jobs.slice(0, limit) : jobs;
  }

  /** One List page as it comes (AIP-158 page_size and page_token). */
  listPage(req: { states?: string[]; pageSize?: number; pageToken?: string }): Promise<ListJobsResponse__Output> {
    // `limit` equal to page_size: older coordinators read only `limit`.
    const pageSize = req.pageSize ?? 0;
    return this.unary((cb, o) => this.client.List({ states: (req.states ?? []) as never, limit: pageSize, pageSize, pageToken: req.pageToken ?? '' }, o, cb));
  }

  cancel(id: string): Promise<Job__Output> {
    return this.unary((cb, o) => this.client.Cancel({ id }, o, cb));
  }

  workers(): Promise<ListWorkersResponse__Output> {
    return this.unary((cb, o) => this.client.ListWorkers({}, o, cb));
  }

  models(): Promise<ListModelsResponse__Output> {
    return this.unary((cb, o) => this.client.ListModels({}, o, cb));
  }

  /** Streams events until the job ends; resolves with the last job state. */
  watch(id: string, onEvent: (e: JobEvent__Output) => void, signal?: AbortSignal): Promise<Job__Output> {
    return new Promise((resolve, reject) => {
      const call = this.client.Watch({ id });
      let last: Job__Output | undefined;
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
      call.on('data', (e: JobEvent__Output) => {
        if (e.job) last = e.job;
        onEvent(e);
      });
      call.on('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
      call.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        if (last && TERMINAL.has(last.state)) resolve(last);
        else reject(new Error(`watch of ${id} ended before the job finished`));
      });
    });
  }

  /** Downloads the job's output to `path` (written to a temp name, renamed when complete). */
  async download(id: string, path: string, onProgress?: (bytes: number, total: number) => void): Promise<{ bytes: number; contentType: string }> {
    const tmp = `${path}.download`;
    const out = createWriteStream(tmp);
    const call = this.client.Download({ id }, { deadline: Date.now() + 10 * this.timeoutMs });
    let bytes = 0;
    let contentType = '';
    try {
      for await (const chunk of call as AsyncIterable<{ data: Buffer; totalBytes: number; contentType: string }>) {
        contentType = chunk.contentType;
        bytes += chunk.data.length;
        if (!out.write(chunk.data)) await once(out, 'drain');
        onProgress?.(bytes, Number(chunk.totalBytes));
      }
      out.end();
      await once(out, 'finish');
      await rename(tmp, path);
      return { bytes, contentType };
    } catch (err) {
      out.destroy();
      throw err;
    }
  }

  close(): void {
    this.client.close();
  }

  private unary<T>(start: (cb: (err: grpc.ServiceError | null, res?: T) => void, opts: grpc.CallOptions) => unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      start((err, res) => (err ? reject(err) : resolve(res as T)), { deadline: Date.now() + this.timeoutMs });
    });
  }
}
