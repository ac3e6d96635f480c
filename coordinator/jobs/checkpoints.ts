import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { decodeSamplerCheckpoint, type SamplerCheckpoint } from '../sampling/checkpoint.ts';
import type { CheckpointStore } from './ports.ts';

/**
 * The render's side of sampler checkpoints: at most one upload in flight,
 * at most one every `intervalMs` (0: after every advance), so sampling never
 * waits for the store. An advance offered while an upload runs is skipped,
 * unless forced (the final latent), which then goes out right after it.
 */
export class CheckpointWriter {
  private inFlight: Promise<void> | undefined;
  private pending: Uint8Array | undefined;
  private lastMs = -Infinity;
  /** Checkpoints written, for tests and logs. */
  saved = 0;

  constructor(
    private readonly store: CheckpointStore,
    private readonly jobId: string,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  /** `encode` runs only when a checkpoint is due (it copies the engine's buffers). */
  offer(encode: () => Uint8Array, force = false): void {
    const now = Date.now();
    if (!force && (this.inFlight || now - this.lastMs < this.intervalMs)) return;
    const bytes = encode();
    this.lastMs = now;
    if (this.inFlight) this.pending = bytes;
    else this.start(bytes);
  }

  /** Waits until every accepted checkpoint is stored (or failed and was logged). */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private start(bytes: Uint8Array): void {
    this.inFlight = this.store
      .save(this.jobId, bytes)
      .then(
        () => void this.saved++,
        // A lost checkpoint costs only recomputation after a takeover; the job goes on.
        (err: unknown) => this.log.warn('saving checkpoint failed', { job: this.jobId, error: errorMessage(err) }),
      )
      .finally(() => {
        this.inFlight = undefined;
        const next = this.pending;
        this.pending = undefined;
        if (next) this.start(next);
      });
  }
}

/** The job's checkpoint, if one of this run is stored; an unreadable one is logged and ignored. */
export async function loadCheckpoint(store: CheckpointStore, jobId: string, fingerprint: string, log: Logger): Promise<SamplerCheckpoint | undefined> {
  const bytes = await store.load(jobId);
  if (!bytes) return undefined;
  try {
    return decodeSamplerCheckpoint(bytes, fingerprint);
  } catch (err) {
    log.warn('ignoring checkpoint; starting over', { job: jobId, error: errorMessage(err) });
    return undefined;
  }
}
