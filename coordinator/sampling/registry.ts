/**
 * Scheduler registry: builds any scheduler from its kind, a serialisable
 * config (e.g. from a job spec) and the number of inference steps.
 *
 * `createScheduler(s.kind, JSON.parse(JSON.stringify(s.config)), s.numSteps)`
 * rebuilds a scheduler identical to `s` for every kind.
 */
import { show } from './config-fields.ts';
import { DdimScheduler } from './ddim.ts';
import { DdpmScheduler } from './ddpm.ts';
import { SchedulerConfigError } from './errors.ts';
import { EulerScheduler } from './euler.ts';
import { FlowEulerScheduler } from './flow-euler.ts';
import type { Scheduler } from './scheduler.ts';

/** Scheduler families, diffusers' names in snake case. */
export type SchedulerKind = 'ddim' | 'ddpm' | 'euler' | 'flow_euler';

/** All scheduler kinds, for validation and CLI help. */
export const SCHEDULER_KINDS: readonly SchedulerKind[] = ['ddim', 'ddpm', 'euler', 'flow_euler'];

/** The scheduler class of each kind. */
export interface SchedulerByKind {
  ddim: DdimScheduler;
  ddpm: DdpmScheduler;
  euler: EulerScheduler;
  flow_euler: FlowEulerScheduler;
}

/** Validates a scheduler kind; throws a SchedulerConfigError on field `kind` otherwise. */
export function parseSchedulerKind(value: unknown): SchedulerKind {
  if (!SCHEDULER_KINDS.includes(value as SchedulerKind)) {
    throw new SchedulerConfigError('kind', `scheduler kind must be one of ${SCHEDULER_KINDS.join(', ')}, got ${show(value)}`);
  }
  return value as SchedulerKind;
}

/**
 * Builds a scheduler of `kind` from `config` (any subset of that kind's
 * config fields; `undefined` means all defaults) over `numSteps` steps.
 *
 * @throws SchedulerConfigError naming the offending field: `kind`, a config
 *   field (`eta`, `trainSchedule.betaEnd`, an unknown key), or `numInferenceSteps`.
 */
export function createScheduler<K extends SchedulerKind>(kind: K, config: unknown, numSteps: number): SchedulerByKind[K];
export function createScheduler(kind: string, config: unknown, numSteps: number): Scheduler;
export function createScheduler(kind: string, config: unknown, numSteps: number): Scheduler {
  // The constructors take typed partial configs; their parsers validate any input (null included).
  const input = (config === undefined ? {} : config) as object;
  switch (parseSchedulerKind(kind)) {
    case 'ddim':
      return new DdimScheduler(input, numSteps);
    case 'ddpm':
      return new DdpmScheduler(input, numSteps);
    case 'euler':
      return new EulerScheduler(input, numSteps);
    case 'flow_euler':
      return new FlowEulerScheduler(input, numSteps);
  }
}
