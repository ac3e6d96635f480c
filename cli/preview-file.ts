/**
 * `--preview FILE`: keeps FILE showing a job's latest preview. Each image is
 * written to a temporary name beside FILE and renamed over it, so a viewer
 * never opens half an image; while one is being written, only the newest
 * waiting image is kept (the ones in between are skipped).
 */
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export class PreviewFile {
  private writing: Promise<void> | undefined;
  private waiting: Uint8Array | undefined;
  private error: unknown;
  /** Images written to FILE so far. */
  written = 0;

  constructor(readonly path: string) {}

  /** Shows `image` in FILE as soon as the write before it is done. */
  offer(image: Uint8Array): void {
    this.waiting = image;
    this.writing ??= this.drain();
  }

  /** Resolves once FILE shows the last offered image; rejects with a write's error. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.error) throw this.error;
  }

  private async drain(): Promise<void> {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      while (this.waiting) {
        const image = this.waiting;
        this.waiting = undefined;
        await writeFile(tmp, image);
        await rename(tmp, this.path);
        this.written++;
      }
    } catch (err) {
      this.error ??= err;
      this.waiting = undefined;
      await unlink(tmp).catch(() => undefined);
    } finally {
      this.writing = undefined;
    }
  }
}
