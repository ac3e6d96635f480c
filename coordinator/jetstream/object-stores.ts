import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ObjectStore } from '@nats-io/obj';
import { NotFoundError } from '../../common/errors.ts';
import type { ArtifactStore, CheckpointStore, InputStore } from '../jobs/ports.ts';
import type { LocalInputStore } from '../jobs/local-inputs.ts';

const CONTENT_TYPES: Record<string, string> = { mp4: 'video/mp4', webm: 'video/webm', latent: 'application/x-propeller-latent' };

const outputName = (jobId: string) => `outputs/${jobId}`;
const checkpointName = (jobId: string) => `checkpoints/${jobId}`;

/**
 * Outputs in a JetStream object store, readable from every coordinator. The
 * render writes to a local scratch file (ffmpeg needs a path); `commit`
 * uploads it in chunks and removes the file. The object store checks each
 * download against the SHA-256 digest it recorded.
 */
export class ObjectArtifactStore implements ArtifactStore {
  constructor(
    private readonly os: ObjectStore,
    private readonly scratchDir: string,
  ) {
    mkdirSync(scratchDir, { recursive: true });
  }

  pathFor(jobId: string, ext: string): string {
    return join(this.scratchDir, `${jobId}.${ext}.tmp`);
  }

  async commit(jobId: string, path: string): Promise<{ bytes: number }> {
    const ext = /\.([a-z0-9]+)\.tmp$/.exec(path)?.[1] ?? 'bin';
    const size = statSync(path).size;
    const info = await this.os.put(
      { name: outputName(jobId), description: ext },
      Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>,
    );
    await rm(path, { force: true });
    if (info.size !== size) throw new Error(`uploaded ${info.size} of ${size} bytes of the output of job ${jobId}`);
    return { bytes: info.size };
  }

  async open(jobId: string): Promise<{ stream: Readable; bytes: number; contentType: string }> {
    const result = await this.os.get(outputName(jobId));
    if (!result) throw new NotFoundError('output of job', jobId);
    const stream = Readable.fromWeb(result.data as unknown as WebReadableStream<Uint8Array>);
    // A digest mismatch or a lost chunk fails the stream instead of ending it short.
    result.error.then((err) => {
      if (err) stream.destroy(err);
    }, (err: unknown) => stream.destroy(err instanceof Error ? err : new Error(String(err))));
    const ext = result.info.description ?? '';
    return { stream, bytes: result.info.size, contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream' };
  }
}

/** Sampler checkpoints as objects `checkpoints/<jobId>` (each save replaces the last). */
export class ObjectCheckpointStore implements CheckpointStore {
  constructor(private readonly os: ObjectStore) {}

  async save(jobId: string, bytes: Uint8Array): Promise<void> {
    await this.os.putBlob({ name: checkpointName(jobId) }, bytes);
  }

  async load(jobId: string): Promise<Uint8Array | undefined> {
    return (await this.os.getBlob(checkpointName(jobId))) ?? undefined;
  }

  async delete(jobId: string): Promise<void> {
    await deleteIfPresent(this.os, checkpointName(jobId));
  }
}

/**
 * Uploaded inputs (masked modes) shared by every coordinator: kept in the
 * object store as `inputs/<ref>`, with a private local copy for ffmpeg on
 * whichever coordinator renders the job (`materialize`). They stay until
 * the job ends, so a job taken over after a crash still reads its input.
 */
export class ObjectInputStore implements InputStore {
  readonly shared = true;

  constructor(
    private readonly os: ObjectStore,
    private readonly local: LocalInputStore,
  ) {}

  async put(data: Uint8Array): Promise<string> {
    const ref = await this.local.put(data);
    try {
      await this.os.putBlob({ name: `inputs/${ref}` }, data);
    } catch (err) {
      await this.local.delete(ref);
      throw err;
    }
    return ref;
  }

  path(ref: string): string {
    return this.local.path(ref);
  }

  async materialize(ref: string): Promise<void> {
    const path = this.local.path(ref);
    if (existsSync(path)) return;
    const bytes = await this.os.getBlob(`inputs/${ref}`);
    if (!bytes) throw new NotFoundError('uploaded input', ref);
    await writeFile(path, bytes, { mode: 0o600 });
  }

  async delete(ref: string): Promise<void> {
    await this.local.delete(ref);
    await deleteIfPresent(this.os, `inputs/${ref}`);
  }
}

/** Deletes an object; one already gone (another coordinator got there first) is fine. */
async function deleteIfPresent(os: ObjectStore, name: string): Promise<void> {
  try {
    if (await os.info(name)) await os.delete(name);
  } catch (err) {
    if (await os.info(name)) throw err;
  }
}
