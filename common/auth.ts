import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError } from './errors.ts';

/**
 * Bearer-token tenants. A token is a random secret the client sends as
 * `authorization: Bearer <token>`; the server keeps only its SHA-256, so a
 * leaked tokens file gives no one access. Every job belongs to the tenant
 * whose token submitted it; an admin token sees every tenant's jobs.
 *
 * Stored form, one tenant token per line (several lines may share a tenant,
 * for rotation; `#` starts a comment):
 *
 *     tenant:sha256hex            a tenant
 *     tenant:sha256hex:admin      an admin
 *
 * or JSON: `[{"tenant": "...", "sha256": "...", "admin": false}, ...]`
 * (or `{"tenants": [...]}`). `propeller token --tenant NAME` makes a token
 * and prints its line.
 */

/** One stored token: whose it is and the SHA-256 of the secret, in hex. */
export interface TenantToken {
  tenant: string;
  sha256: string;
  admin: boolean;
}

/** Who made a request. */
export interface Principal {
  /** Tenant name; '' when authentication is off. */
  readonly tenant: string;
  /** Sees and manages every tenant's jobs. */
  readonly admin: boolean;
}

/** The caller when no tokens are configured: one open tenant that sees everything. */
export const OPEN_PRINCIPAL: Principal = Object.freeze({ tenant: '', admin: true });

/** Letters, digits, '.', '_', '-'; starts with a letter or digit; at most 64. */
export const TENANT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Longest token accepted; longer ones are refused before hashing. */
const MAX_TOKEN_CHARS = 256;
/** Prefix of generated tokens, so a leaked one is recognisable in logs and scanners. */
const TOKEN_PREFIX = 'ppl_';

/** SHA-256 of a token, lowercase hex: what the server stores. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token: 32 bytes from the OS CSPRNG, base64url, with a recognisable prefix. */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** The stored line of a token (what goes into a tokens file). */
export function tokenLine(tenant: string, token: string, admin = false): string {
  if (!TENANT_NAME.test(tenant)) throw new Error(`tenant name "${tenant}" must be letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)`);
  return `${tenant}:${hashToken(token)}${admin ? ':admin' : ''}`;
}

/**
 * Parses stored tokens: JSON (an array or `{"tenants": [...]}`), or lines
 * `tenant:sha256hex[:admin]` separated by newlines, commas or semicolons
 * (the latter two so an environment variable can hold several). Errors name
 * the source and the line.
 */
export function parseTenantTokens(text: string, source: string): TenantToken[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return parseJson(trimmed, source);
  const out: TenantToken[] = [];
  trimmed.split(/[\n,;]/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const parts = line.split(':');
    const where = `${source} entry ${i + 1}`;
    if (parts.length < 2 || parts.length > 3) throw new Error(`${where}: expected tenant:sha256hex or tenant:sha256hex:admin`);
    const [tenant, sha256, role] = parts as [string, string, string | undefined];
    if (role !== undefined && role !== 'admin') throw new Error(`${where}: the third field may only be "admin", got "${role}"`);
    out.push(checkEntry({ tenant, sha256: sha256.toLowerCase(), admin: role === 'admin' }, where));
  });
  return out;
}

function parseJson(text: string, source: string): TenantToken[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(value) ? value : (value as { tenants?: unknown }).tenants;
  if (!Array.isArray(list)) throw new Error(`${source}: expected an array of {tenant, sha256, admin} or {"tenants": [...]}`);
  return list.map((e: unknown, i) => {
    const o = (e ?? {}) as Record<string, unknown>;
    const where = `${source} [${i}]`;
    if (typeof o.tenant !== 'string' || typeof o.sha256 !== 'string') throw new Error(`${where}: tenant and sha256 must be strings`);
    if (o.admin !== undefined && typeof o.admin !== 'boolean') throw new Error(`${where}: admin must be true or false`);
    return checkEntry({ tenant: o.tenant, sha256: o.sha256.toLowerCase(), admin: o.admin === true }, where);
  });
}

function checkEntry(e: TenantToken, where: string): TenantToken {
  if (!TENANT_NAME.test(e.tenant)) throw new Error(`${where}: tenant "${e.tenant}" must be letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)`);
  if (!SHA256_HEX.test(e.sha256)) throw new Error(`${where}: the hash of tenant "${e.tenant}" must be 64 hex digits (the token's SHA-256; see propeller token)`);
  return e;
}

/**
 * Checks bearer tokens against the stored hashes. With no tokens it is
 * disabled and every caller is {@link OPEN_PRINCIPAL}.
 */
export class TokenAuthenticator {
  private readonly entries: { hash: Buffer; principal: Principal }[];

  constructor(tokens: readonly TenantToken[]) {
    const seen = new Map<string, string>();
    this.entries = tokens.map((t) => {
      const other = seen.get(t.sha256);
      if (other !== undefined && other !== t.tenant) throw new Error(`one token hash is given to two tenants ("${other}" and "${t.tenant}")`);
      seen.set(t.sha256, t.tenant);
      return { hash: Buffer.from(t.sha256, 'hex'), principal: Object.freeze({ tenant: t.tenant, admin: t.admin }) };
    });
  }

  /** False when no tokens are configured (the service is open). */
  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** Number of distinct tenants. */
  get tenants(): number {
    return new Set(this.entries.map((e) => e.principal.tenant)).size;
  }

  /**
   * The caller of an `authorization` header value (`Bearer <token>`).
   * Throws {@link UnauthenticatedError} when it is missing or matches no
   * tenant. Every stored hash is compared, in constant time, whatever matches.
   */
  authenticate(authorization: string | undefined): Principal {
    if (!this.enabled) return OPEN_PRINCIPAL;
    if (authorization === undefined || authorization === '') throw new UnauthenticatedError('missing bearer token (send "authorization: Bearer <token>")');
    const m = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization.trim());
    if (!m || m[1]!.length > MAX_TOKEN_CHARS) throw new UnauthenticatedError('malformed authorization header; expected "Bearer <token>"');
    const presented = createHash('sha256').update(m[1]!, 'utf8').digest();
    let found: Principal | undefined;
    for (const e of this.entries) {
      // No early exit: the time taken does not depend on which entry (if any) matches.
      if (timingSafeEqual(presented, e.hash) && !found) found = e.principal;
    }
    if (!found) throw new UnauthenticatedError('invalid bearer token');
    return found;
  }
}
