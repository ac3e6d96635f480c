/**
 * The coordinator's preview board: running jobs post their live previews
 * here and Watch streams pick them up. Previews are ephemeral — they never
 * go into the job store — except each job's contact sheet, which the board
 * keeps for its most recent jobs so the SUCCEEDED event (and a later Watch
 * of the finished job) can carry it.
 */
import { EventEmitter } from 'node:events';

/** One preview image; the fields of the wire's `JobPreview`. */
export interface PreviewImage {
  /** PNG bytes. */
  image: Buffer;
  mimeType: 'image/png';
  width: number;
  height: number;
  /** Completed steps when the prediction was made (of `totalSteps`); `totalSteps` for a contact sheet. */
  step: number;
  totalSteps: number;
  /** Video frames shown. */
  frames: number;
  /** A grid of frames of the finished, decoded video. */
  contactSheet: boolean;
}

/** Contact sheets kept by default (a few tens of KiB each). */
export const DEFAULT_KEPT_SHEETS = 64;

export class PreviewBoard {
  private readonly events = new EventEmitter();
  private readonly sheets = new Map<string, PreviewImage>();

  constructor(private readonly keptSheets = DEFAULT_KEPT_SHEETS) {
    // One listener per Watch stream of a job: many at once is expected.
    this.events.setMaxListeners(0);
  }

  /** Posts a preview of job `id` to its watchers; a contact sheet is also kept. */
  publish(id: string, preview: PreviewImage): void {
    if (preview.contactSheet) {
      this.sheets.delete(id);
      this.sheets.set(id, preview);
      // Oldest first out: a Map iterates in insertion order.
      for (const old of this.sheets.keys()) {
        if (this.sheets.size <= this.keptSheets) break;
        this.sheets.delete(old);
      }
    }
    this.events.emit(id, preview);
  }

  /** Calls `listener` with every preview of job `id` from now on; returns the unsubscribe function. */
  subscribe(id: string, listener: (preview: PreviewImage) => void): () => void {
    this.events.on(id, listener);
    return () => this.events.off(id, listener);
  }

  /** The contact sheet of a finished job, while the board keeps it. */
  contactSheet(id: string): PreviewImage | undefined {
    return this.sheets.get(id);
  }
}
