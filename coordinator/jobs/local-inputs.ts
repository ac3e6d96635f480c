import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InputStore } from './ports.ts';

/**
 * Uploaded inputs as private files under a local directory (mode 0700, files
 * 0600), named by a random reference. The name carries no extension, so
 * ffmpeg recognises the content by probing it, not by a name the user chose.
 */
export class LocalInputStore implements InputStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is masked by the umask and ignored for an existing dir.
    chmodSync(dir, 0o700);
  }

  async put(data: Uint8Array): Promise<string> {
    const ref = `in-${randomBytes(12).toString('hex')}`;
    await writeFile(this.path(ref), data, { mode: 0o600, flag: 'wx' });
    return ref;
  }

  path(ref: string): string {
    if (!/^in-[0-9a-f]{24}$/.test(ref)) throw new RangeError(`bad input reference "${ref.slice(0, 40)}"`);
    return join(this.dir, ref);
  }

  async delete(ref: string): Promise<void> {
    await rm(this.path(ref), { force: true });
  }
}
