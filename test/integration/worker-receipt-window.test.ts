import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { encodeTensor } from '../../common/tensor-codec.ts';
import { LATENT_FLOW_CONTROL_WINDOW } from '../../common/grpc-options.ts';
import { Rng } from '../../common/rng.ts';
import { WorkerClient } from '../../coordinator/cluster/worker-client.ts';
import type { WorkerHandle } from '../../worker/server.ts';
import { startTestWorker } from '../helpers/servers.ts';

/**
 * How a batch reaches a real worker: its connections take a whole batch in
 * one HTTP/2 window (not 64 KiB steps), and it confirms receipt of an
 * Evaluate request (early response headers) before the model has run, which
 * is when the dispatcher puts that worker's next batch on the wire.
 */
let worker: WorkerHandle;

before(async () => {
  // A simulated GPU (20 ms + 290 ms per item): the answer comes well after the request is in.
  worker = await startTestWorker({ device: 'sim:h100-video' });
});

after(async () => {
  await worker.drain();
});

test('worker - its HTTP/2 connections advertise the latent receive window, per stream and per connection', async () => {
  const session = http2.connect(`http://${worker.address}`);
  try {
    // grpc-js sends its own SETTINGS first; the wider window follows in a
    // second SETTINGS frame and a connection WINDOW_UPDATE.
    await new Promise((resolve) => session.once('remoteSettings', resolve));
    for (let i = 0; i < 100 && !(session.remoteSettings.initialWindowSize === LATENT_FLOW_CONTROL_WINDOW && session.state.remoteWindowSize === LATENT_FLOW_CONTROL_WINDOW); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(session.remoteSettings.initialWindowSize, LATENT_FLOW_CONTROL_WINDOW);
    assert.equal(session.state.remoteWindowSize, LATENT_FLOW_CONTROL_WINDOW);
  } finally {
    session.destroy();
  }
});

test('worker - confirms receipt of an Evaluate request as soon as it has it, long before it answers', async () => {
  const client = new WorkerClient(worker.address, 64 << 20);
  try {
    const sample = new Rng(3).fillNormal(new Float32Array(4 * 16 * 32 * 32));
    const items = Array.from({ length: 4 }, () => ({ sample: encodeTensor(sample, [4, 16, 32, 32], 'float16'), timestep: 500, conditioning: {} }));
    let receivedAt: number | undefined;
    const res = await client.evaluate({ model: 'field-mixture', items, outputDtype: 'OUTPUT_DTYPE_FLOAT16' }, 30_000, undefined, () => {
      receivedAt = performance.now();
    });
    const answeredAt = performance.now();
    assert.equal(res.outputs.length, 4);
    assert.ok(receivedAt !== undefined, 'no receipt before the answer');
    // 4 items on the simulated GPU take 1180 ms; the receipt came before they ran.
    assert.ok(answeredAt - receivedAt > 800, `receipt ${(answeredAt - receivedAt).toFixed(0)} ms before the answer`);
  } finally {
    client.close();
  }
});
