import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';

/**
 * Asserts that `p` fails with gRPC status `code` (and, given `message`,
 * details that match it); returns the error for further checks.
 */
export async function expectCode(p: Promise<unknown>, code: grpc.status, message?: RegExp): Promise<grpc.ServiceError> {
  let caught: grpc.ServiceError | undefined;
  await assert.rejects(p, (e: grpc.ServiceError) => {
    assert.equal(e.code, code, `expected ${status[code]}, got ${status[e.code]}: ${e.details}`);
    if (message) assert.match(e.details, message);
    caught = e;
    return true;
  });
  return caught!;
}
