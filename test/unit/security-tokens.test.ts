import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { OPEN_PRINCIPAL, TokenAuthenticator, generateToken, hashToken, parseTenantTokens, tokenLine } from '../../common/auth.ts';
import { InvalidArgumentError, UnauthenticatedError } from '../../common/errors.ts';
import { isLoopbackListen } from '../../common/tls.ts';
import { checkSubmitRequest } from '../../coordinator/api/request-schema.ts';
import { compileCoordinatorConfig } from '../../coordinator/config.ts';
import type { SubmitRequest__Output } from '../../common/proto/generated/propeller/v1/SubmitRequest.ts';

test('tokens - generated tokens are random, prefixed, and stored as their SHA-256 only', () => {
  const a = generateToken();
  const b = generateToken();
  assert.notEqual(a, b);
  assert.match(a, /^ppl_[A-Za-z0-9_-]{43}$/);
  assert.equal(hashToken(a), createHash('sha256').update(a).digest('hex'));
  const line = tokenLine('team-a', a);
  assert.equal(line, `team-a:${hashToken(a)}`);
  assert.ok(!line.includes(a.slice(4)), 'the stored line does not hold the token');
  assert.equal(tokenLine('ops', a, true), `ops:${hashToken(a)}:admin`);
  assert.throws(() => tokenLine('bad name', a), /tenant name "bad name"/);
});

test('tokens - files of lines or JSON parse; errors name the source and the entry', () => {
  const h = hashToken('t');
  const entries = parseTenantTokens(`# comment\nalice:${h}\n\nops:${hashToken('u').toUpperCase()}:admin  # the admin\n`, 'tokens.txt');
  assert.deepEqual(entries, [
    { tenant: 'alice', sha256: h, admin: false },
    { tenant: 'ops', sha256: hashToken('u'), admin: true },
  ]);
  assert.deepEqual(parseTenantTokens(`alice:${h},bob:${hashToken('v')}`, 'env').map((e) => e.tenant), ['alice', 'bob']);
  assert.deepEqual(parseTenantTokens(JSON.stringify({ tenants: [{ tenant: 'alice', sha256: h, admin: true }] }), 'j'), [{ tenant: 'alice', sha256: h, admin: true }]);
  assert.throws(() => parseTenantTokens(`alice:${h}\nbob:1234`, 'tokens.txt'), /tokens\.txt entry 2: the hash of tenant "bob" must be 64 hex digits/);
  assert.throws(() => parseTenantTokens(`alice:${h}:root`, 'f'), /f entry 1: the third field may only be "admin"/);
  assert.throws(() => parseTenantTokens(`al ice:${h}`, 'f'), /tenant "al ice"/);
  assert.throws(() => parseTenantTokens('[{"tenant": "a"}]', 'j'), /j \[0\]: tenant and sha256 must be strings/);
  assert.throws(() => parseTenantTokens('{nope', 'j'), /j: not valid JSON/);
});

test('tokens - the authenticator knows the tenant of a bearer token and refuses anything else', () => {
  const alice = generateToken();
  const ops = generateToken();
  const auth = new TokenAuthenticator(parseTenantTokens(`${tokenLine('alice', alice)}\n${tokenLine('ops', ops, true)}`, 'f'));
  assert.equal(auth.enabled, true);
  assert.equal(auth.tenants, 2);
  assert.deepEqual(auth.authenticate(`Bearer ${alice}`), { tenant: 'alice', admin: false });
  assert.deepEqual(auth.authenticate(`bearer ${ops}`), { tenant: 'ops', admin: true });
  const refused = (header: string | undefined, why: RegExp) =>
    assert.throws(() => auth.authenticate(header), (e: unknown) => e instanceof UnauthenticatedError && why.test(e.message));
  refused(undefined, /missing bearer token/);
  refused('', /missing bearer token/);
  refused(`Bearer ${generateToken()}`, /invalid bearer token/);
  refused(`Bearer ${hashToken(alice)}`, /invalid bearer token/);
  refused(alice, /malformed/);
  refused(`Basic ${alice}`, /malformed/);
  refused(`Bearer ${alice} extra`, /malformed/);
  refused(`Bearer ${'x'.repeat(300)}`, /malformed/);
  // No tokens: open, everyone is the one open tenant.
  const open = new TokenAuthenticator([]);
  assert.equal(open.enabled, false);
  assert.equal(open.authenticate(undefined), OPEN_PRINCIPAL);
  // One hash for two tenants is a configuration error.
  assert.throws(() => new TokenAuthenticator(parseTenantTokens(`a:${hashToken('t')}\nb:${hashToken('t')}`, 'f')), /two tenants/);
});

test('tokens - coordinator config checks inline tokens; loopback listen addresses are recognised', () => {
  assert.throws(() => compileCoordinatorConfig({ auth: { tokens: [{ tenant: 'a', sha256: 'xyz' }] } }), /coordinator option auth\.tokens\.0\.sha256/);
  assert.throws(() => compileCoordinatorConfig({ workerTls: { cert: 'c.pem' } }), /coordinator option workerTls: cert and key go together/);
  for (const l of ['127.0.0.1:7400', 'localhost:1', '[::1]:7400', '127.1.2.3:0']) assert.equal(isLoopbackListen(l), true, l);
  for (const l of ['0.0.0.0:7400', '10.0.0.5:7400', ':7400', '[::]:7400']) assert.equal(isLoopbackListen(l), false, l);
});

test('request schema - wire-level Submit checks name the field as the .proto does', () => {
  const spec = { model: 'field-mixture', prompt: 'ocean', promptSchedule: [], negativePrompt: '', scheduler: '', eta: 0, guidance: 0, mode: '', sampler: null, layout: null, output: null, input: null, conditioning: {} };
  const req = (patch: object, top: object = {}) => ({ spec: { ...spec, ...patch }, clientRequestId: '', ...top }) as unknown as SubmitRequest__Output;
  const field = (r: SubmitRequest__Output) => {
    try {
      checkSubmitRequest(r);
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof InvalidArgumentError);
      return `${e.field}: ${e.problem}`;
    }
  };
  assert.equal(field(req({})), 'ok');
  assert.equal(field(req({ sampler: { kind: 'picard', tolerance: Number.NaN, policy: '' } })), 'spec.sampler.tolerance: must be a finite number');
  assert.equal(field(req({ eta: Number.POSITIVE_INFINITY })), 'spec.eta: must be a finite number');
  assert.equal(field(req({ promptSchedule: [{ fromFrame: 0, prompt: 'a' }, { fromFrame: 4, prompt: 'b\u0000c' }], prompt: '' })), 'spec.prompt_schedule[1].prompt: must not contain control characters');
  assert.match(field(req({ model: '../../etc/passwd' })), /^spec\.model: must be a model name/);
  assert.match(field(req({ output: { format: 'mp4; rm -rf /' } })), /^spec\.output\.format: must be a single word/);
  assert.match(field(req({ negativePrompt: 'x'.repeat(1001) })), /^spec\.negative_prompt: is longer than 1000 characters/);
  assert.match(field(req({ conditioning: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`t${i}`, { dtype: 'float32', shape: [1] }])) })), /^spec\.conditioning: has more than 16 tensors/);
  assert.match(field(req({}, { clientRequestId: 'a\nb' })), /^client_request_id: must not contain control characters/);
});
