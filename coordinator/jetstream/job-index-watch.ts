import type { JetStreamManager } from '@nats-io/jetstream';
import { KvWatchInclude, type KV } from '@nats-io/kv';
import { UnavailableError, errorMessage } from '../../common/errors.ts';
import type { JobRecord } from '../jobs/job.ts';
import { JobIndex } from '../jobs/job-index.ts';
import { JOB_KEY_PREFIX, decodeJob } from './stored-job.ts';

/** How long `ready` waits for the index while it is (re)built. */
const INDEX_WAIT_MS = 10_000;
/** Pause before the watch of job records is opened again after it ended. */
const REFOLLOW_MS = 1_000;

/** Where the watch reads from: the KV bucket, and its stream's name for the one look at its keys. */
export interface WatchedBucket {
  readonly kv: KV;
  readonly jsm: JetStreamManager;
  readonly bucket: string;
  /** The bucket's TTL (0: records never expire): expired records leave the index then. */
  readonly retentionMs: number;
}

/**
 * The {@link JobIndex} of a KV bucket of job records, kept by one watch of
 * `job.*`: it delivers the current records (the index is loaded once it
 * has), then every write of every coordinator. The store applies its own
 * writes at once with {@link applyOwn}. When the watch cannot be opened, or
 * ends other than by `close` (a reconnect lost its consumer), a fresh index
 * is loaded from scratch a second later; meanwhile `ready` waits.
 */
export class JobIndexWatch {
  private index: JobIndex;
  /** Whether `index` holds every record (the watch delivered the ones stored when it opened). */
  private loaded = false;
  private following = false;
  private stopFollowing: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly source: WatchedBucket,
    /** Where trouble with the watch is told. */
    private readonly log?: (message: string, error: string) => void,
  ) {
    this.index = this.fresh();
  }

  /** The index once loaded: waits (at most 10 s, then UNAVAILABLE) while it is being loaded. */
  async ready(): Promise<JobIndex> {
    if (!this.following) this.follow().catch(() => undefined);
    const deadline = Date.now() + INDEX_WAIT_MS;
    while (!this.loaded) {
      if (this.closed) throw new UnavailableError('job store is closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new UnavailableError('the index of job records is not loaded yet (is NATS reachable?); retry');
      await new Promise((r) => setTimeout(r, Math.min(50, left)));
    }
    return this.index;
  }

  /** Applies a write of this process (revision `revision`; undefined: deleted) ahead of the watch. */
  applyOwn(id: string, job: JobRecord | undefined, revision: number): void {
    this.index.apply(id, job, revision, true);
  }

  /** Drops a job whose record was found missing (expired). */
  forget(id: string): void {
    this.index.forget(id);
  }

  /** Loads the index from the records stored now and keeps it current; resolves once loaded. */
  follow(): Promise<void> {
    this.following = true;
    const opened = this.openWatch();
    opened.catch((err: unknown) => {
      this.log?.('opening the watch of job records failed; trying again', errorMessage(err));
      this.followAgain();
    });
    return opened;
  }

  /** Stops the watch. Idempotent. */
  close(): void {
    this.closed = true;
    this.stopFollowing?.();
    this.stopFollowing = undefined;
  }

  private fresh(): JobIndex {
    return new JobIndex({ retentionMs: this.source.retentionMs });
  }

  private followAgain(): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      if (!this.closed) this.follow().catch(() => undefined);
    }, REFOLLOW_MS);
    timer.unref();
  }

  private async openWatch(): Promise<void> {
    // A fresh index: this process's writes from now on go into it, and the
    // older versions of those jobs that the watch delivers are ignored (revisions).
    const index = this.fresh();
    this.index = index;
    this.loaded = false;
    // With no job records the watch delivers nothing until the next write: loaded as it opens.
    // (Records written between this look and the watch come with the watch, a moment later.)
    const empty = !(await this.anyRecord());
    const iter = await this.source.kv.watch({ key: `${JOB_KEY_PREFIX}*`, include: KvWatchInclude.LastValue });
    if (this.closed || this.index !== index) {
      iter.stop();
      return;
    }
    this.stopFollowing = () => iter.stop();
    let markLoaded!: () => void;
    const loaded = new Promise<void>((r) => (markLoaded = r));
    const done = () => {
      if (this.index === index) this.loaded = true;
      markLoaded();
    };
    if (empty) done();
    void (async () => {
      for await (const e of iter) {
        let job: JobRecord | undefined;
        try {
          job = e.operation === 'PUT' ? decodeJob(e).job : undefined;
        } catch (err) {
          this.log?.(`job record ${e.key} is not JSON; left out of the index`, errorMessage(err));
        }
        if (job || e.operation !== 'PUT') index.apply(e.key.slice(JOB_KEY_PREFIX.length), job, e.revision, false, e.created.getTime());
        // Nothing more pending for the watch: every record stored when it opened is in.
        if (!this.loaded && (e.delta === 0 || e.isUpdate)) done();
      }
    })()
      .catch((err: unknown) => this.log?.('the watch of job records failed', errorMessage(err)))
      .finally(() => {
        markLoaded();
        if (this.closed || this.index !== index) return;
        // The watch ended under us (its consumer is gone): load the index again.
        this.loaded = false;
        this.followAgain();
      });
    await loaded;
  }

  /**
   * Whether the bucket holds any job key (a deleted one included: the watch
   * delivers its marker). One answer of the server, once per watch opened.
   */
  private async anyRecord(): Promise<boolean> {
    const { jsm, bucket } = this.source;
    const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `$KV.${bucket}.${JOB_KEY_PREFIX}*` });
    return Object.keys(info.state.subjects ?? {}).length > 0;
  }
}
