import type { Job__Output } from '../../common/proto/generated/propeller/v1/Job.ts';
import type { Slot } from './soak-faults.ts';

/**
 * The soak test's checks on what the coordinators say once the faults are
 * over: their paginated listings and their logs.
 */

/**
 * Every job `c` lists, page by page (7 a page); a job listed twice across
 * pages, two jobs for one client request id, or a job no Submit was answered
 * with (not in `answered`) is a problem.
 */
export async function listEveryJob(c: Slot, answered: ReadonlyMap<string, unknown>, problems: string[]): Promise<Map<string, Job__Output>> {
  const seen = new Map<string, Job__Output>();
  let token = '';
  let pages = 0;
  do {
    const page = await c.client!.listPage({ pageSize: 7, pageToken: token });
    for (const j of page.jobs) {
      if (seen.has(j.id)) problems.push(`${c.name}: job ${j.id} listed twice across pages`);
      seen.set(j.id, j);
    }
    token = page.nextPageToken;
    pages++;
  } while (token && pages < 10_000);
  const perRid = new Map<string, string[]>();
  for (const j of seen.values()) perRid.set(j.clientRequestId, [...(perRid.get(j.clientRequestId) ?? []), j.id]);
  for (const [rid, ids] of perRid) if (ids.length > 1) problems.push(`${c.name}: ${ids.length} jobs for client request id ${rid}: ${ids.join(', ')} (a duplicated job)`);
  for (const j of seen.values()) if (!answered.has(j.id)) problems.push(`${c.name}: job ${j.id} (request id "${j.clientRequestId}", ${j.state}) was never answered to a Submit`);
  return seen;
}

/** What every coordinator process there was logged: which of them finished each job, and how often jobs moved. */
export function coordinatorLogTally(coordinatorLogs: [string, string[]][]): { finishes: Map<string, string[]>; takeovers: number; resumes: number; lostLeases: number; batchRetries: number } {
  const finishes = new Map<string, string[]>();
  for (const [name, lines] of coordinatorLogs) {
    for (const l of lines) {
      if (!l.includes('job succeeded')) continue;
      const id = /job=(\S+)/.exec(l)?.[1] ?? '';
      finishes.set(id, [...(finishes.get(id) ?? []), name]);
    }
  }
  const count = (text: string) => coordinatorLogs.reduce((n, [, ls]) => n + ls.filter((l) => l.includes(text)).length, 0);
  return { finishes, takeovers: count('job taken over'), resumes: count('job resumed'), lostLeases: count('job taken over elsewhere'), batchRetries: count('batch failed, will retry') };
}
