/** The Info answer of the in-process fake workers of the dispatcher unit tests. */
import type { InfoResponse__Output } from '../../common/proto/generated/propeller/v1/InfoResponse.ts';
import { fieldMixtureManifest } from '../../models/field-mixture/build.ts';

const FIELD_MIXTURE_MANIFEST_JSON = JSON.stringify(fieldMixtureManifest());

/**
 * What a fake worker at `address` answers to Info: it serves field-mixture,
 * batches of up to 16, capacity 1, 64 MiB messages, no receipts unless
 * `overrides` says otherwise.
 */
export function fakeWorkerInfo(address: string, overrides: Partial<InfoResponse__Output> = {}): InfoResponse__Output {
  return {
    workerId: address,
    device: 'fake',
    version: 'test',
    maxBatch: 16,
    capacity: 1,
    maxMessageBytes: 64 << 20,
    confirmsReceipt: false,
    models: [{ name: 'field-mixture', kind: 'MODEL_KIND_DENOISER', manifestJson: FIELD_MIXTURE_MANIFEST_JSON, available: true, reason: '' }],
    ...overrides,
  };
}
