import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError, NotFoundError, quoteBounded } from '../../common/errors.ts';
import { MAX_STATUS_DETAILS_BYTES, boundDetails, toGrpcError } from '../../common/grpc-status.ts';

test('bounded echo - quoteBounded quotes short text as is, and cuts long text saying its length', () => {
  assert.equal(quoteBounded('field-mixture'), '"field-mixture"');
  assert.equal(quoteBounded('a'.repeat(200_000)), `"${'a'.repeat(64)}…" (200000 characters)`);
  assert.equal(quoteBounded('abcdef', 3), '"abc…" (6 characters)');
  // A surrogate pair is never cut in half.
  assert.equal(quoteBounded('ab\u{1F600}cd', 3), '"ab…" (6 characters)');
});

test('bounded echo - NotFoundError quotes its id bounded, and keeps the whole id as a field', () => {
  const id = 'x'.repeat(10_000);
  const err = new NotFoundError('model', id);
  assert.equal(err.id, id);
  assert.ok(err.message.length < 120, err.message);
});

test('bounded echo - toGrpcError bounds the details to MAX_STATUS_DETAILS_BYTES of UTF-8, on a character boundary', () => {
  assert.equal(boundDetails('short'), 'short');
  for (const ch of ['a', '\u00e9', '\u{1F600}']) {
    const status = toGrpcError(new InvalidArgumentError('f', ch.repeat(100_000)));
    assert.ok(Buffer.byteLength(status.details) <= MAX_STATUS_DETAILS_BYTES, `${Buffer.byteLength(status.details)} bytes`);
    assert.ok(!status.details.includes('\uFFFD'));
    assert.match(status.details, /… \(\d+ characters in all\)$/);
  }
});

test('bounded echo - what a malformed request puts where text belongs is quoted as it prints, never thrown on', () => {
  assert.equal(quoteBounded(12345), '"12345"');
  assert.equal(quoteBounded(undefined), '"undefined"');
  assert.equal(quoteBounded({ a: 1 }), '"[object Object]"');
  assert.match(quoteBounded(Array.from({ length: 100 }, () => 'x')), /^"x,x,x.*…" \(199 characters\)$/);
});
