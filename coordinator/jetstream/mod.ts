/**
 * The JetStream job backend: queue, job store, cancel requests, artifacts
 * and checkpoints shared by every coordinator pointed at one NATS cluster.
 * See `options.ts` for the names and limits of what it creates.
 */
import { connect, nanos, type NatsConnection, type Stats } from '@nats-io/transport-node';
import { DiscardPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import type { Logger } from '../../common/logger.ts';
import { errorMessage } from '../../common/errors.ts';
import { JetStreamJobQueue } from './job-queue.ts';
import { outagesUnavailable } from './outage.ts';
import { KvCancelRequests } from './cancel-requests.ts';
import { KvJobStore } from './job-store.ts';
import { ObjectArtifactStore, ObjectCheckpointStore, ObjectInputStore } from './object-stores.ts';
import { LocalInputStore } from '../jobs/local-inputs.ts';
import { SUBMISSION_DEDUP_WINDOW_MS, jetStreamNames, jetStreamOptionsSchema, type JetStreamConfig, type JetStreamOptions } from './options.ts';

export { jetStreamOptionsSchema, type JetStreamConfig, type JetStreamOptions } from './options.ts';
export { DEFAULT_ACK_WAIT_MS, DEFAULT_CHECKPOINT_INTERVAL_MS, DEFAULT_JETSTREAM_PREFIX, DEFAULT_RETENTION_MS, PRIORITY_BANDS, jetStreamNames, priorityBand } from './options.ts';

/** Largest job record (spec + progress; uploaded inputs are kept elsewhere). */
const MAX_RECORD_BYTES = 1 << 20;

/** The adapters of the job ports on one NATS connection. */
export interface JetStreamJobs {
  readonly config: JetStreamConfig;
  readonly queue: JetStreamJobQueue;
  readonly store: KvJobStore;
  readonly cancels: KvCancelRequests;
  readonly artifacts: ObjectArtifactStore;
  readonly checkpoints: ObjectCheckpointStore;
  readonly inputs: ObjectInputStore;
  /**
   * What the connection has received and sent so far (messages, bytes): the
   * measure of how much a request reads of the bucket (test/integration/jetstream-constant-work.test.ts).
   */
  stats(): Stats;
  /** Drains the connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Connects and opens (creating where missing) the submissions stream with
 * its consumers, the jobs KV bucket and the artifacts object store.
 * `scratchDir` holds outputs while they are written, before upload;
 * `inputsDir` local copies of uploaded inputs (for ffmpeg).
 */
export async function openJetStreamJobs(options: JetStreamOptions, scratchDir: string, inputsDir: string, log: Logger): Promise<JetStreamJobs> {
  const config = Object.freeze(jetStreamOptionsSchema.parse(options));
  const names = jetStreamNames(config.prefix);
  // Reconnect for as long as it takes: a running job's lease lapses meanwhile, and its
  // writes are fenced if another coordinator took it over.
  const nc = await connect({ servers: config.servers.split(','), name: `propeller-coordinator-${process.pid}`, maxReconnectAttempts: -1, reconnectTimeWait: 1_000 });
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await ensureStream(jsm, {
      name: names.stream,
      description: 'Propeller job submissions (work queue: a message lives until a coordinator finishes its job)',
      subjects: [names.subjects],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: config.replicas,
      max_msgs: config.maxSubmissions,
      discard: DiscardPolicy.New,
      max_msg_size: 4096,
      duplicate_window: nanos(SUBMISSION_DEDUP_WINDOW_MS),
    }, log);
    const queue = await JetStreamJobQueue.open(nc, js, jsm, names, config);
    const kv = await new Kvm(js).create(names.jobs, {
      description: 'Propeller job records, client request ids and cancel requests',
      history: 1,
      replicas: config.replicas,
      ttl: config.retentionMs,
      maxValueSize: MAX_RECORD_BYTES,
      storage: StorageType.File,
    });
    const os = await new Objm(js).create(names.artifacts, {
      description: 'Propeller job outputs, sampler checkpoints, uploaded inputs and conditioning tensors',
      replicas: config.replicas,
      ttl: nanos(config.retentionMs),
      max_bytes: config.maxArtifactBytes,
      storage: StorageType.File,
    });
    const cancels = await KvCancelRequests.open(kv);
    // An existing bucket keeps its TTL: the index expires records by the bucket's own.
    const retentionMs = (await kv.status()).ttl;
    const store = new KvJobStore({ kv, jsm, bucket: names.jobs, retentionMs }, os, (message, error) => log.warn(message, { error }));
    try {
      // The index of job records behind counts, tenant quotas and List pages: read once here, then kept by a watch.
      await store.follow();
    } catch (err) {
      store.close();
      cancels.close();
      throw err;
    }
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        try {
          queue.close();
        } catch (err) {
          log.warn('closing the submissions subscription failed', { error: errorMessage(err) });
        }
        try {
          cancels.close();
          store.close();
        } catch (err) {
          log.warn('closing the cancel and job watches failed', { error: errorMessage(err) });
        }
        try {
          // Drain, but do not wait on a server that is gone.
          let timer: NodeJS.Timeout | undefined;
          const gone = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 5_000)));
          if ((await Promise.race([nc.drain(), gone])) === 'timeout') await nc.close();
          clearTimeout(timer);
        } catch (err) {
          log.warn('draining the NATS connection failed', { error: errorMessage(err) });
        }
      })());
    log.info('jobs on JetStream', { servers: config.servers, stream: names.stream, kv: names.jobs, objects: names.artifacts, replicas: config.replicas });
    // While NATS is unreachable every port says UNAVAILABLE (retryable), not INTERNAL (outage.ts).
    return {
      config,
      queue: outagesUnavailable(queue, 'job queue'),
      store: outagesUnavailable(store, 'job store'),
      cancels: outagesUnavailable(cancels, 'cancel requests'),
      artifacts: outagesUnavailable(new ObjectArtifactStore(os, scratchDir), 'artifact store'),
      checkpoints: outagesUnavailable(new ObjectCheckpointStore(os), 'checkpoint store'),
      inputs: outagesUnavailable(new ObjectInputStore(os, new LocalInputStore(inputsDir)), 'input store'),
      stats: () => nc.stats(),
      close,
    };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw err;
  }
}

/** Creates the stream, or checks the existing one and keeps it (its limits are the operator's to change). */
async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }, log: Logger): Promise<void> {
  const existing = await jsm.streams.info(cfg.name).catch(() => undefined);
  if (!existing) {
    await jsm.streams.add(cfg);
    return;
  }
  if (existing.config.retention !== RetentionPolicy.Workqueue) {
    throw new Error(`stream ${cfg.name} exists but is not a work queue (retention ${existing.config.retention}); use another --nats-prefix`);
  }
  if (existing.config.num_replicas !== cfg.num_replicas) {
    log.warn('submissions stream keeps its replicas', { stream: cfg.name, replicas: existing.config.num_replicas, asked: cfg.num_replicas });
  }
}

/** Deletes everything the backend created under `prefix` (tests; irreversible). */
export async function destroyJetStreamJobs(nc: NatsConnection, prefix: string): Promise<void> {
  const names = jetStreamNames(prefix);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(names.stream).catch(() => false);
  await jsm.streams.delete(`KV_${names.jobs}`).catch(() => false);
  await jsm.streams.delete(`OBJ_${names.artifacts}`).catch(() => false);
}
