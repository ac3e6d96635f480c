import type { JobRecord } from './job.ts';
import type { JobListFilter, ListCursor } from './ports.ts';

/**
 * The one order of `List`: newest first by creation time, ties by id
 * (ascending). Total, so a cursor names one place in it.
 */
export function newestFirst(a: Pick<JobRecord, 'createdAtMs' | 'id'>, b: Pick<JobRecord, 'createdAtMs' | 'id'>): number {
  if (a.createdAtMs !== b.createdAtMs) return b.createdAtMs - a.createdAtMs;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** True when `job` comes strictly after `cursor` in {@link newestFirst} order. */
export function isAfter(job: Pick<JobRecord, 'createdAtMs' | 'id'>, cursor: ListCursor): boolean {
  return newestFirst(job, cursor) > 0;
}

/**
 * Whether `filter` keeps `job` (its states, tenant and cursor; `limit`
 * aside): what a store checks of the records its index picked for a page,
 * whose state may have changed since.
 */
export function keeps(filter: JobListFilter, job: Pick<JobRecord, 'createdAtMs' | 'id' | 'state' | 'tenant'>): boolean {
  if (filter.states?.length && !filter.states.includes(job.state)) return false;
  // Records written before tenants existed belong to the open tenant ''.
  if (filter.tenant !== undefined && (job.tenant ?? '') !== filter.tenant) return false;
  return !filter.after || isAfter(job, filter.after);
}

/** The most jobs `filter` asks for: its limit, or all when absent or 0. */
export function limitOf(filter: JobListFilter): number {
  return filter.limit && filter.limit > 0 ? filter.limit : Infinity;
}
