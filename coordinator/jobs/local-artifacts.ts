import { createReadStream, mkdirSync, renameSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError } from '../../common/errors.ts';
import type { ArtifactStore } from './ports.ts';

const CONTENT_TYPES: Record<string, string> = { mp4: 'video/mp4', webm: 'video/webm', latent: 'application/x-propeller-latent' };

/** Outputs as files under a local data directory: `<dir>/<jobId>.<ext>`. */
export class LocalArtifactStore implements ArtifactStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  pathFor(jobId: string, ext: string): string {
    return join(this.dir, `${jobId}.${ext}.tmp`);
  }

  async commit(jobId: string, path: string): Promise<{ bytes: number }> {
    const final = path.replace(/\.tmp$/, '');
    renameSync(path, final);
    return { bytes: statSync(final).size };
  }

  /**
   * What the directory holds: finished outputs and unfinished `.tmp` ones.
   * The in-memory job store forgets its jobs on restart, so at start these
   * are files no job record names (server.ts says so once).
   */
  contents(): { outputs: number; partial: number; bytes: number } {
    const out = { outputs: 0, partial: 0, bytes: 0 };
    for (const name of readdirSync(this.dir)) {
      const st = statSync(join(this.dir, name));
      if (!st.isFile()) continue;
      if (name.endsWith('.tmp')) out.partial++;
      else out.outputs++;
      out.bytes += st.size;
    }
    return out;
  }

  async open(jobId: string): Promise<{ stream: NodeJS.ReadableStream & import('node:stream').Readable; bytes: number; contentType: string }> {
    const name = readdirSync(this.dir).find((f) => f.startsWith(`${jobId}.`) && !f.endsWith('.tmp'));
    if (!name) throw new NotFoundError('output of job', jobId);
    const path = join(this.dir, name);
    const ext = name.slice(jobId.length + 1);
    return { stream: createReadStream(path), bytes: statSync(path).size, contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream' };
  }
}
