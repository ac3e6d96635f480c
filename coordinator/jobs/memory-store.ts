import type { JobRecord } from './job.ts';
import { JobIndex } from './job-index.ts';
import { limitOf } from './list-order.ts';
import type { JobCounts, JobListFilter, JobStore, TenantLoad, UnfinishedGroup } from './ports.ts';

/** In-memory JobStore of the embedded mode. Records are copied in and out so callers cannot alias them. */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly byClientId = new Map<string, string>();
  /** Counts, tenant loads and List order (job-index.ts). */
  private readonly index = new JobIndex();
  /** Revision of the latest write, for the index. */
  private revision = 0;

  async create(job: JobRecord): Promise<JobRecord> {
    if (this.jobs.has(job.id)) throw new Error(`job ${job.id} exists`);
    const earlier = job.clientRequestId ? this.byClientId.get(job.clientRequestId) : undefined;
    if (earlier) return structuredClone(this.jobs.get(earlier)!);
    this.set(job);
    if (job.clientRequestId) this.byClientId.set(job.clientRequestId, job.id);
    return structuredClone(job);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const j = this.jobs.get(id);
    return j && structuredClone(j);
  }

  async put(job: JobRecord): Promise<void> {
    this.set(job);
  }

  async update(id: string, change: (job: JobRecord) => JobRecord | undefined): Promise<JobRecord | undefined> {
    const current = this.jobs.get(id);
    if (!current) return undefined;
    const next = change(structuredClone(current));
    if (next) this.set(next);
    return structuredClone(this.jobs.get(id)!);
  }

  async list(filter: JobListFilter = {}): Promise<JobRecord[]> {
    return this.index.page(filter, limitOf(filter)).map((c) => structuredClone(this.jobs.get(c.id)!));
  }

  async findByClientRequestId(clientRequestId: string): Promise<JobRecord | undefined> {
    const id = this.byClientId.get(clientRequestId);
    return id ? this.get(id) : undefined;
  }

  async tenantLoad(tenant: string): Promise<TenantLoad> {
    return this.index.load(tenant);
  }

  async counts(): Promise<JobCounts> {
    return this.index.counts();
  }

  async unfinishedGroups(): Promise<UnfinishedGroup[]> {
    return this.index.unfinishedGroups();
  }

  private set(job: JobRecord): void {
    this.jobs.set(job.id, structuredClone(job));
    this.index.apply(job.id, job, ++this.revision);
  }
}
