import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { Job__Output } from '../../common/proto/generated/propeller/v1/Job.ts';
import type { JobSpec } from '../../common/proto/generated/propeller/v1/JobSpec.ts';
import { loadProtos } from '../../common/proto/load.ts';
import type { ListJobsResponse__Output } from '../../common/proto/generated/propeller/v1/ListJobsResponse.ts';
import { workerAndCoordinator } from '../helpers/servers.ts';

/** List pages of the embedded (in-memory) coordinator through gRPC and the CLI's client. */
const cluster = workerAndCoordinator();

const small: JobSpec = { model: 'field-mixture', prompt: 'ocean', frames: 16, height: 128, width: 128, steps: 4, seed: 3, output: { format: 'latent' } };

/** A job that ends at once (canceled), so many of them cost nothing. */
async function job(): Promise<string> {
  const j = await cluster.client.submit(small);
  await cluster.client.cancel(j.id).catch(() => undefined);
  return j.id;
}

function assertOrdered(jobs: readonly Job__Output[]): void {
  for (let i = 1; i < jobs.length; i++) {
    const a = jobs[i - 1]!;
    const b = jobs[i]!;
    const [ta, tb] = [Number(a.createdAtMs), Number(b.createdAtMs)];
    assert.ok(ta > tb || (ta === tb && a.id < b.id), `${a.id}@${ta} listed before ${b.id}@${tb}`);
  }
}

async function expectInvalid(p: Promise<unknown>, field: RegExp): Promise<void> {
  await assert.rejects(p, (e: grpc.ServiceError) => {
    assert.equal(e.code, grpc.status.INVALID_ARGUMENT, e.details);
    assert.match(e.details, field);
    return true;
  });
}

test('list pages - every job exactly once, newest first, while jobs are created between pages', async () => {
  const existing = new Set<string>();
  for (let i = 0; i < 40; i++) existing.add(await job());
  const seen: Job__Output[] = [];
  const added: string[] = [];
  let pageToken = '';
  do {
    const page = await cluster.client.listPage({ pageSize: 6, pageToken });
    assert.ok(page.jobs.length <= 6);
    seen.push(...page.jobs);
    pageToken = page.nextPageToken;
    added.push(await job());
  } while (pageToken);
  const ids = seen.map((j) => j.id);
  assert.equal(new Set(ids).size, ids.length, 'no job on two pages');
  assert.deepEqual(new Set(ids), existing);
  assertOrdered(seen);
  // The CLI's client follows pages up to its limit.
  const all = await cluster.client.list([], 0);
  assert.equal(all.length, existing.size + added.length);
  assertOrdered(all);
  assert.deepEqual((await cluster.client.list([], 13)).map((j) => j.id), all.slice(0, 13).map((j) => j.id));
  assert.deepEqual((await cluster.client.list(['CANCELED'], 501)).map((j) => j.id), all.filter((j) => j.state === 'CANCELED').slice(0, 501).map((j) => j.id));
});

test('list pages - bad tokens and sizes are INVALID_ARGUMENT naming the field', async () => {
  await job();
  await job();
  const first = await cluster.client.listPage({ pageSize: 1 });
  assert.notEqual(first.nextPageToken, '');
  await expectInvalid(cluster.client.listPage({ pageSize: 1, pageToken: 'not a token!' }), /^page_token is not a page token/);
  await expectInvalid(cluster.client.listPage({ pageSize: 1, pageToken: first.nextPageToken.slice(0, -2) }), /^page_token /);
  await expectInvalid(cluster.client.listPage({ pageSize: 1, pageToken: Buffer.from('{"v":1}').toString('base64url') }), /^page_token is not a page token/);
  await expectInvalid(cluster.client.listPage({ states: ['CANCELED'], pageSize: 1, pageToken: first.nextPageToken }), /^page_token was issued for states \[\], not these/);
  await expectInvalid(cluster.client.listPage({ pageSize: 10_001 }), /^page_size must be at most 10000/);
  // The older `limit` still works alone; with page_size it must agree.
  const raw = new (loadProtos().jobs.propeller.v1.JobService)(cluster.coordinator.address, grpc.credentials.createInsecure());
  const list = (req: object) =>
    new Promise<ListJobsResponse__Output>((resolve, reject) => raw.List(req, (err, res) => (err ? reject(err) : resolve(res!))));
  try {
    const byLimit = await list({ limit: 1 });
    assert.equal(byLimit.jobs.length, 1);
    assert.notEqual(byLimit.nextPageToken, '');
    await expectInvalid(list({ limit: 2, pageSize: 3 }), /^limit is the older name of page_size/);
  } finally {
    raw.close();
  }
});
