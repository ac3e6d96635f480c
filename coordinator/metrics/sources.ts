/**
 * What the coordinator's metrics read at scrape time: the parts' own counts,
 * passed in by the server once they exist (a port of the metrics, so the
 * gauges in this folder and the metrics class name one type).
 */
import type { Dispatcher } from '../cluster/dispatcher.ts';
import type { NatsDiscovery } from '../cluster/nats-registry.ts';
import type { WorkerRegistry } from '../cluster/worker-registry.ts';
import type { JobManager } from '../jobs/job-manager.ts';

/** One JetStream submission consumer's counts (its band's). */
export interface ConsumerStats {
  band: string;
  /** Submissions not yet delivered to any coordinator: queued jobs. */
  pending: number;
  /** Delivered and not acknowledged: jobs a coordinator holds (running). */
  ackPending: number;
  /** Messages delivered more than once: jobs handed over after a coordinator stopped renewing them. */
  redelivered: number;
}

/** The parts read at scrape time. */
export interface CoordinatorMetricSources {
  jobs: Pick<JobManager, 'counts' | 'unfinishedGroups'>;
  registry: Pick<WorkerRegistry, 'all' | 'modelNames'>;
  dispatcher: Pick<Dispatcher, 'wire' | 'backlog'>;
  /** NATS discovery, when workers are found that way: whether it sees announcements, and the workers it lost. */
  discovery?: Pick<NatsDiscovery, 'up' | 'lost'>;
  /** The JetStream submission consumers' counts, when jobs live on JetStream. */
  queueStats?: () => Promise<readonly ConsumerStats[]>;
}
