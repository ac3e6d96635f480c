import { InvalidArgumentError } from '../../common/errors.ts';
import type { JobRecord, JobState } from '../jobs/job.ts';
import type { JobListFilter, ListCursor } from '../jobs/ports.ts';

/** Most jobs one List page holds, and the page size when none is asked for. */
export const MAX_PAGE_SIZE = 10_000;
/** Longer tokens are refused before they are decoded. */
const MAX_TOKEN_CHARS = 512;
/** Token layout version: a later layout refuses older tokens by name rather than misreading them. */
const TOKEN_VERSION = 1;

/** The paging fields of a ListJobsRequest, states already checked. */
export interface ListPageRequest {
  states: readonly JobState[];
  /** Older name of `pageSize`. */
  limit: number;
  pageSize: number;
  pageToken: string;
}

export interface ListPage {
  jobs: JobRecord[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/**
 * One page of List (AIP-158): at most `pageSize` jobs after the token's
 * cursor in list order (newest first, ties by id). The token names the last
 * job shown, not an offset, so jobs created between pages (they sort before
 * it) neither shift nor repeat the later pages. `list` is the store's list;
 * `tenant` limits the page to one tenant's jobs.
 */
export async function listPage(list: (filter: JobListFilter) => Promise<JobRecord[]>, req: ListPageRequest, tenant?: string): Promise<ListPage> {
  const size = pageSizeOf(req);
  const after = req.pageToken ? decodePageToken(req.pageToken, req.states) : undefined;
  // One more than the page tells whether another page follows.
  const jobs = await list({ states: req.states, limit: size + 1, ...(after ? { after } : {}), ...(tenant === undefined ? {} : { tenant }) });
  if (jobs.length <= size) return { jobs, nextPageToken: '' };
  const shown = jobs.slice(0, size);
  const last = shown[shown.length - 1]!;
  return { jobs: shown, nextPageToken: encodePageToken({ createdAtMs: last.createdAtMs, id: last.id }, req.states) };
}

/** `page_size`, or the older `limit`; 0 means the most a page holds. */
function pageSizeOf(req: ListPageRequest): number {
  if (req.pageSize > MAX_PAGE_SIZE) throw new InvalidArgumentError('page_size', `must be at most ${MAX_PAGE_SIZE}, got ${req.pageSize}`);
  if (req.limit > MAX_PAGE_SIZE) throw new InvalidArgumentError('limit', `must be at most ${MAX_PAGE_SIZE}, got ${req.limit}`);
  if (req.pageSize && req.limit && req.pageSize !== req.limit) throw new InvalidArgumentError('limit', `is the older name of page_size; set one of them, or both equal (limit ${req.limit}, page_size ${req.pageSize})`);
  return req.pageSize || req.limit || MAX_PAGE_SIZE;
}

/** What a token carries: the cursor and the states filter it was issued for. */
interface TokenBody {
  v: number;
  /** createdAtMs of the last job shown. */
  t: number;
  /** id of the last job shown. */
  i: string;
  /** The request's states, sorted. */
  s: string[];
}

const statesKey = (states: readonly JobState[]) => [...new Set(states)].sort();

/** base64url of the cursor and the states filter; opaque to clients. */
export function encodePageToken(cursor: ListCursor, states: readonly JobState[]): string {
  const body: TokenBody = { v: TOKEN_VERSION, t: cursor.createdAtMs, i: cursor.id, s: statesKey(states) };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** The cursor of a token this service issued for the same states; anything else is INVALID_ARGUMENT naming `page_token`. */
export function decodePageToken(token: string, states: readonly JobState[]): ListCursor {
  const bad = (why: string) => new InvalidArgumentError('page_token', `${why}; pass the next_page_token of the previous page unchanged, or none for the first page`);
  if (token.length > MAX_TOKEN_CHARS) throw bad(`is longer than ${MAX_TOKEN_CHARS} characters`);
  // Node's base64url decoder skips characters outside the alphabet: insist on the exact encoding.
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.toString('base64url') !== token) throw bad('is not a page token');
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad('is not a page token');
  }
  if (!isTokenBody(body)) throw bad('is not a page token');
  if (body.v !== TOKEN_VERSION) throw bad(`has version ${body.v}, this coordinator reads version ${TOKEN_VERSION}`);
  if (body.s.join(',') !== statesKey(states).join(',')) throw bad(`was issued for states [${body.s.join(', ')}], not these`);
  return { createdAtMs: body.t, id: body.i };
}

function isTokenBody(x: unknown): x is TokenBody {
  if (typeof x !== 'object' || x === null) return false;
  const b = x as Record<string, unknown>;
  return (
    typeof b.v === 'number' &&
    typeof b.t === 'number' &&
    Number.isSafeInteger(b.t) &&
    b.t >= 0 &&
    typeof b.i === 'string' &&
    b.i.length > 0 &&
    b.i.length <= 100 &&
    Array.isArray(b.s) &&
    b.s.every((s) => typeof s === 'string')
  );
}
