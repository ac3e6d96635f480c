import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { visibleGpuUuid } from '../../worker/gpu-identity.ts';

describe('worker - the GPU a worker owns, from NVIDIA_VISIBLE_DEVICES', () => {
  it('one GPU or MIG instance named by UUID (what the Kubernetes device plugin sets) is taken', () => {
    assert.equal(visibleGpuUuid('GPU-8f1f4d06-07fd-27a7-52d5-e58aa060d256'), 'GPU-8f1f4d06-07fd-27a7-52d5-e58aa060d256');
    assert.equal(visibleGpuUuid(' GPU-8f1f4d06-07fd-27a7-52d5-e58aa060d256\n'), 'GPU-8f1f4d06-07fd-27a7-52d5-e58aa060d256');
    assert.equal(visibleGpuUuid('MIG-5e3d1c2a-0b4f-5a6e-9c8d-7f6e5d4c3b2a'), 'MIG-5e3d1c2a-0b4f-5a6e-9c8d-7f6e5d4c3b2a');
  });

  it('indexes, lists, all, none and nothing say nothing about which GPU', () => {
    for (const v of [undefined, '', '0', '0,1', 'all', 'none', 'void', 'GPU-aaaa,GPU-bbbb']) assert.equal(visibleGpuUuid(v), undefined, String(v));
  });
});
