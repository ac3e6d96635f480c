import * as grpc from '@grpc/grpc-js';
import { OPEN_PRINCIPAL, type Principal, type TokenAuthenticator } from '../../common/auth.ts';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, errorMessage, quoteBounded } from '../../common/errors.ts';
import { guardHandlers, tolerantService } from '../../common/grpc-requests.ts';
import { boundDetails, toGrpcError } from '../../common/grpc-status.ts';
import { MAX_JOB_ID_CHARS, checkLength } from '../../common/request-limits.ts';
import type { Logger } from '../../common/logger.ts';
import type { DenoiserManifest } from '../../common/manifest.ts';
import { loadProtos } from '../../common/proto/load.ts';
import type { Job } from '../../common/proto/generated/propeller/v1/Job.ts';
import type { JobServiceHandlers } from '../../common/proto/generated/propeller/v1/JobService.ts';
import type { ModelStatus } from '../../common/proto/generated/propeller/v1/ModelStatus.ts';
import type { WorkerStatus } from '../../common/proto/generated/propeller/v1/WorkerStatus.ts';
import type { WorkerRegistry } from '../cluster/worker-registry.ts';
import { JOB_STATES, TERMINAL_STATES, type JobRecord, type JobState } from '../jobs/job.ts';
import type { JobManager } from '../jobs/job-manager.ts';
import type { JobLimits } from '../jobs/limits.ts';
import { intakeInput } from '../jobs/input-intake.ts';
import type { MemoryBudget } from '../jobs/memory-budget.ts';
import { estimateJobMemory } from '../jobs/memory-estimate.ts';
import type { ValidInput } from '../jobs/modes.ts';
import type { ArtifactStore, InputStore } from '../jobs/ports.ts';
import { SPEC_DEFAULTS, specToProto, validateSpec, type DefaultSampler } from '../jobs/spec.ts';
import { checkSubmitNames, checkSubmitRequest } from './request-schema.ts';
import { IntakeGate } from './intake-gate.ts';
import type { PreviewBoard } from '../previews/board.ts';
import { listPage } from './list-page.ts';

const CHUNK_BYTES = 1024 * 1024;

export interface JobServiceOptions {
  jobs: JobManager;
  registry: WorkerRegistry;
  artifacts: ArtifactStore;
  /** Where uploaded inputs wait for their job. */
  inputs: InputStore;
  limits: JobLimits;
  /** The sampler of jobs that name none (default sequential). */
  defaultSampler?: DefaultSampler;
  /** The coordinator's memory for jobs: Submit refuses a job whose estimate exceeds it. */
  memory?: MemoryBudget;
  /** Uploaded inputs checked at once: in all (4; up to `maxWaiting`, 64, wait), and per tenant (2; more answer RESOURCE_EXHAUSTED). */
  intake?: { perCoordinator?: number; perTenant?: number; maxWaiting?: number };
  /** Bearer-token tenants; absent or without tokens, the service is open. */
  auth?: TokenAuthenticator;
  log: Logger;
  /** Live previews of the jobs this coordinator runs, streamed on Watch (coordinator/previews). */
  previews?: PreviewBoard;
}

/**
 * gRPC JobService: authenticates every call (bearer tokens, when configured),
 * validates at the edge, and maps core errors to status codes. A tenant sees
 * only its own jobs: another tenant's job answers NOT_FOUND, exactly like a
 * job that does not exist, so ids do not leak.
 */
export class JobService {
  /** Uploads checked at once (ffprobe and the stored file): in all, and per tenant. */
  private readonly intake: IntakeGate;

  constructor(private readonly opts: JobServiceOptions) {
    this.intake = new IntakeGate({ perCoordinator: opts.intake?.perCoordinator ?? 4, perTenant: opts.intake?.perTenant ?? 2, maxWaiting: opts.intake?.maxWaiting ?? 64 });
  }

  addToServer(server: grpc.Server): void {
    const { jobs, registry } = this.opts;
    const handlers: JobServiceHandlers = {
      Submit: (call, cb) =>
        answer(cb, async () => {
          const who = this.caller(call);
          const req = call.request;
          // Naming fields first: nothing below reads (or quotes) an unbounded name.
          checkSubmitNames(req);
          if (!req.spec) throw new InvalidArgumentError('spec', 'is missing');
          // Wire-level checks (finite numbers, bounded clean strings) first, then the spec's meaning.
          checkSubmitRequest(req);
          const lookup = (name: string) => {
            const m = registry.manifest(name);
            return m?.kind === 'denoiser' ? (m as DenoiserManifest) : undefined;
          };
          // A model the workers report but cannot run: say why, rather than "unknown".
          const named = req.spec.model || SPEC_DEFAULTS.model;
          if (!lookup(named) && registry.modelNames().includes(named)) throw new InvalidArgumentError('spec.model', `model ${quoteBounded(named)} is unavailable: ${this.unavailableReason(named)}`);
          const spec = validateSpec(
            req.spec,
            lookup,
            registry.modelNames().filter((n) => registry.manifest(n)?.kind === 'denoiser'),
            this.opts.limits,
            this.opts.defaultSampler,
          );
          // Admission by cost: a job this coordinator could never hold is refused now, not when it runs.
          // (auto adapts its window to the budget: its least is window 1.)
          const m = lookup(spec.model)!;
          this.opts.memory?.check(estimateJobMemory({ ...spec, sampler: { kind: spec.sampler.kind, window: spec.sampler.kind === 'auto' ? 1 : spec.sampler.window } }, m).bytes, `a ${spec.frames}-frame ${spec.width}x${spec.height} job${spec.sampler.kind === 'picard' ? ` with Picard window ${spec.sampler.window}` : ''}`);
          // Request ids are per tenant: another tenant's id neither finds nor blocks this one's job.
          const requestId = req.clientRequestId && who.tenant ? `${who.tenant}/${req.clientRequestId}` : req.clientRequestId;
          if (!req.spec.input) return toProtoJob(await jobs.submit(spec, requestId, who.tenant));
          // Masked modes: the bytes go to the input store, the spec keeps a reference.
          // Quota and queue first: a submit that would be refused decodes nothing.
          const earlier = await jobs.admit(requestId, who.tenant);
          if (earlier) return toProtoJob(earlier);
          const release = await this.intake.enter(who.tenant);
          let input: ValidInput;
          try {
            input = await intakeInput(req.spec.input, spec, lookup(spec.model)!, this.opts.inputs, { maxPixels: this.opts.limits.maxInputPixels });
          } finally {
            release();
          }
          let job: JobRecord | undefined;
          try {
            job = await jobs.submit({ ...spec, input }, requestId, who.tenant);
          } finally {
            // A failed submit, or an earlier job with this request id, leaves the new upload unused.
            if (job?.spec.input?.ref !== input.ref) await this.opts.inputs.delete(input.ref);
          }
          return toProtoJob(job);
        }),
      Get: (call, cb) => answer(cb, async () => toProtoJob(await this.owned(call.request.id, this.caller(call)))),
      List: (call, cb) =>
        answer(cb, async () => {
          const who = this.caller(call);
          const states = call.request.states.map((s, i) => {
            if (!JOB_STATES.includes(s as JobState)) throw new InvalidArgumentError(`states[${i}]`, `is not a job state: ${quoteBounded(s)}`);
            return s as JobState;
          });
          const page = await listPage((filter) => jobs.list(filter), { ...call.request, states }, who.admin ? undefined : who.tenant);
          return { jobs: page.jobs.map(toProtoJob), nextPageToken: page.nextPageToken };
        }),
      Cancel: (call, cb) =>
        answer(cb, async () => {
          const owned = await this.owned(call.request.id, this.caller(call));
          const job = await jobs.cancel(owned.id);
          // A job canceled while queued never reaches the render that deletes its upload.
          if (job.state === 'CANCELED' && job.spec.input) await this.opts.inputs.delete(job.spec.input.ref);
          return toProtoJob(job);
        }),
      Watch: (call) => {
        let unsubscribe: (() => void) | undefined;
        let ended = false;
        const end = () => {
          if (ended) return;
          ended = true;
          unsubscribe?.();
          call.end();
        };
        call.on('cancelled', () => {
          ended = true;
          unsubscribe?.();
        });
        (async () => {
          const job = await this.owned(call.request.id, this.caller(call));
          // Live previews between the job's events, dropped while the client falls
          // behind; the SUCCEEDED event carries the contact sheet.
          const board = this.opts.previews;
          let latest: Job | undefined;
          const stopPreviews = board?.subscribe(job.id, (preview) => {
            if (ended || !latest || preview.contactSheet || call.writableNeedDrain) return;
            call.write({ job: latest, message: `preview of step ${preview.step}`, preview });
          });
          try {
            const stopEvents = await jobs.watch(job.id, (e) => {
              if (ended) return;
              latest = toProtoJob(e.job);
              const sheet = e.job.state === 'SUCCEEDED' ? board?.contactSheet(e.job.id) : undefined;
              call.write({ job: latest, message: e.message, ...(sheet ? { preview: sheet } : {}) });
              if (TERMINAL_STATES.has(e.job.state)) setImmediate(end);
            });
            return () => {
              stopPreviews?.();
              stopEvents();
            };
          } catch (err) {
            stopPreviews?.();
            throw err;
          }
        })()
          .then((u) => {
            unsubscribe = u;
            if (ended) u();
          })
          .catch((err: unknown) => {
            ended = true;
            failStream(call, err);
          });
      },
      Download: (call) => {
        (async () => {
          const job = await this.owned(call.request.id, this.caller(call));
          if (job.state !== 'SUCCEEDED') throw new FailedPreconditionError(`job ${job.id} is ${job.state}; only SUCCEEDED jobs have output`);
          const { stream, bytes, contentType } = await this.opts.artifacts.open(job.id);
          let offset = 0;
          let pending = Buffer.alloc(0);
          for await (const piece of stream as AsyncIterable<Buffer>) {
            if (call.cancelled) {
              stream.destroy();
              return;
            }
            pending = Buffer.concat([pending, piece]);
            while (pending.length >= CHUNK_BYTES) {
              const data = pending.subarray(0, CHUNK_BYTES);
              pending = pending.subarray(CHUNK_BYTES);
              if (!call.write({ data, offset, totalBytes: bytes, contentType })) await new Promise((r) => call.once('drain', r));
              offset += data.length;
            }
          }
          if (pending.length > 0 || offset === 0) call.write({ data: pending, offset, totalBytes: bytes, contentType });
          call.end();
        })().catch((err: unknown) => failStream(call, err));
      },
      ListWorkers: (call, cb) =>
        answer(cb, async () => {
          this.caller(call);
          return { workers: this.workerStatus() };
        }),
      ListModels: (call, cb) =>
        answer(cb, async () => {
          this.caller(call);
          const models: ModelStatus[] = registry.modelNames().map((name) => {
            const m = registry.manifest(name);
            const serving = registry.serving(name).map((w) => w.address);
            const base: ModelStatus = { name, available: serving.length > 0, workers: serving, reason: serving.length ? '' : this.unavailableReason(name) };
            if (!m) return base;
            if (m.kind !== 'denoiser') return { ...base, kind: m.kind, description: m.description };
            return {
              ...base,
              kind: m.kind,
              description: m.description,
              prompts: m.classes,
              nativeFrames: m.nativeFrames * m.vaeScale.temporal,
              nativeHeight: m.nativeHeight * m.vaeScale.spatial,
              nativeWidth: m.nativeWidth * m.vaeScale.spatial,
              predictionType: m.predictionType,
            };
          });
          return { models };
        }),
    };
    // Authentication first on every call; a request that does not decode is INVALID_ARGUMENT, not INTERNAL.
    const guarded = guardHandlers(handlers, { before: (call) => void this.caller(call) });
    server.addService(tolerantService(loadProtos().jobs.propeller.v1.JobService.service), guarded as unknown as grpc.UntypedServiceImplementation);
  }

  /** Why no worker serves `name`: the first reason a worker reported, else that none serves it. */
  private unavailableReason(name: string): string {
    for (const w of this.opts.registry.all()) {
      const reason = w.unavailable.get(name);
      if (reason) return reason;
    }
    return 'no serving worker';
  }

  private workerStatus(): WorkerStatus[] {
    return this.opts.registry.all().map((w) => ({
      id: w.id,
      address: w.address,
      device: w.device,
      state: w.state,
      models: [...w.models.keys()],
      inFlight: w.inFlight,
      evaluations: w.evaluations,
      evaluationsPerSecond: w.throughput,
      maxBatch: w.maxBatch,
      lastError: w.lastError,
    }));
  }

  /** The caller of a call, from its `authorization: Bearer <token>` metadata; UNAUTHENTICATED when auth is on and it fails. */
  private caller(call: { metadata: grpc.Metadata }): Principal {
    const auth = this.opts.auth;
    if (!auth?.enabled) return OPEN_PRINCIPAL;
    const value = call.metadata.get('authorization')[0];
    return auth.authenticate(typeof value === 'string' ? value : value?.toString('utf8'));
  }

  /** The job, when `who` may see it; another tenant's job is NOT_FOUND, as if it did not exist. */
  private async owned(id: string, who: Principal): Promise<JobRecord> {
    const checked = checkId(id);
    const job = await this.opts.jobs.get(checked);
    if (!who.admin && (job.tenant ?? '') !== who.tenant) throw new NotFoundError('job', checked);
    return job;
  }
}

/** Runs a unary handler and answers exactly once, mapping errors to status codes. */
function answer<T>(cb: grpc.sendUnaryData<T>, work: () => Promise<T>): void {
  work().then(
    (res) => cb(null, res),
    (err: unknown) => {
      const status = toGrpcError(err);
      if (status.code === grpc.status.INTERNAL) status.details = boundDetails(`internal error: ${errorMessage(err)}`);
      cb(status);
    },
  );
}

/**
 * Ends a server stream with an error status. grpc-js sends the status of an
 * 'error' event on end; `destroy(err)` would drop it and leave the client hanging.
 */
function failStream(call: grpc.ServerWritableStream<unknown, unknown>, err: unknown): void {
  call.emit('error', toGrpcError(err));
}

/** A job id as asked for: too long is INVALID_ARGUMENT; not shaped like an id, NOT_FOUND (no such job). */
function checkId(id: string): string {
  checkLength('id', id, MAX_JOB_ID_CHARS);
  if (!id) throw new InvalidArgumentError('id', 'is empty');
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new NotFoundError('job', id);
  return id;
}

export function toProtoJob(j: JobRecord): Job {
  return {
    id: j.id,
    spec: specToProto(j.spec),
    state: j.state,
    progress: j.progress,
    error: j.error,
    createdAtMs: j.createdAtMs,
    startedAtMs: j.startedAtMs,
    finishedAtMs: j.finishedAtMs,
    outputBytes: j.outputBytes,
    outputFormat: j.outputFormat,
    // Stored per tenant (`tenant/id`); the client sees the id it sent.
    clientRequestId: j.tenant && j.clientRequestId.startsWith(`${j.tenant}/`) ? j.clientRequestId.slice(j.tenant.length + 1) : j.clientRequestId,
    metrics: j.metrics,
  };
}
