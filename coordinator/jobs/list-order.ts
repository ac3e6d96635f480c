import type { JobRecord, JobState } from './job.ts';
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
 * What every store does to its records for `list`: keeps the filter's
 * states, tenant and the jobs after its cursor, sorts them newest first and
 * cuts at `limit`. The records are not copied.
 */
export function selectJobs(jobs: Iterable<JobRecord>, filter: JobListFilter = {}): JobRecord[] {
  const states: ReadonlySet<JobState> | undefined = filter.states && filter.states.length ? new Set(filter.states) : undefined;
  const out: JobRecord[] = [];
  for (const j of jobs) {
    if (states && !states.has(j.state)) continue;
    // Records written before tenants existed belong to the open tenant ''.
    if (filter.tenant !== undefined && (j.tenant ?? '') !== filter.tenant) continue;
    if (filter.after && !isAfter(j, filter.after)) continue;
    out.push(j);
  }
  out.sort(newestFirst);
  return filter.limit && filter.limit > 0 ? out.slice(0, filter.limit) : out;
}
