import { EventEmitter } from 'node:events';
import { TERMINAL_STATES, type JobRecord } from './job.ts';

/** One event of a job, as Watch streams it: the record after a change and what changed. */
export interface JobEventPayload {
  job: JobRecord;
  message: string;
}

/**
 * The events of the jobs this coordinator writes, per job id (Watch on the
 * in-memory store; a shared store's watch sees every coordinator's writes).
 * Each listener gets its own copy of the record.
 */
export class JobEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per Watch stream of a job: many at once is expected.
    this.emitter.setMaxListeners(0);
  }

  emit(job: JobRecord, message: string): void {
    this.emitter.emit(job.id, { job: structuredClone(job), message } satisfies JobEventPayload);
  }

  /** Calls `listener` with every later event of job `id`. Returns unsubscribe. */
  on(id: string, listener: (e: JobEventPayload) => void): () => void {
    this.emitter.on(id, listener);
    return () => this.emitter.off(id, listener);
  }

  /** The job's record once an event shows it ended. */
  ended(id: string): Promise<JobRecord> {
    return new Promise((resolve) => {
      const off = this.on(id, (e) => {
        if (!TERMINAL_STATES.has(e.job.state)) return;
        off();
        resolve(e.job);
      });
    });
  }
}
