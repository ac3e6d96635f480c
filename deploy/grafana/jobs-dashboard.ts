/** The jobs and sampling dashboard: durations, waits, rounds, Picard convergence, seams, encoding and per-tenant usage. */
import type { DashboardSpec } from './panel-spec.ts';
import { mean, q, quantile, rate } from './queries.ts';

export const jobs: DashboardSpec = {
  uid: 'propeller-jobs',
  title: 'Propeller / Jobs and sampling',
  description: 'How jobs run: durations, queue wait, sampling rounds, Picard convergence, seams and encoding.',
  variables: [],
  panels: [
    {
      title: 'Jobs running',
      description: 'Jobs sampling or encoding now, in the (shared) job store.',
      targets: [q('max(sum without (state) (propeller_jobs{state=~"RUNNING|ENCODING"}))', 'running')],
      type: 'stat',
    },
    { title: 'Jobs queued', description: 'Jobs waiting for a run slot.', targets: [q('max(propeller_queue_depth_jobs)', 'queued')], type: 'stat' },
    {
      title: 'Job success ratio',
      description: 'Share of the jobs that ended in the window, succeeded or failed, that succeeded (canceled jobs are the users\' choice, not failures).',
      targets: [q(`sum(${rate('propeller_jobs_completed_total', 'outcome="succeeded"')}) / sum(${rate('propeller_jobs_completed_total', 'outcome=~"succeeded|failed"')})`, 'succeeded')],
      unit: 'percentunit',
      type: 'stat',
    },
    {
      title: 'Job duration',
      description: 'Time from start to end of a job (sampling, decoding, encoding), by outcome.',
      targets: [q(quantile(0.5, 'propeller_job_duration_seconds', ['outcome']), 'p50 {{outcome}}'), q(quantile(0.95, 'propeller_job_duration_seconds', ['outcome']), 'p95 {{outcome}}')],
      unit: 's',
    },
    {
      title: 'Queue wait',
      description: 'Time a job waited in the queue before it started.',
      targets: [q(quantile(0.5, 'propeller_job_queue_wait_seconds', []), 'p50'), q(quantile(0.95, 'propeller_job_queue_wait_seconds', []), 'p95')],
      unit: 's',
    },
    {
      title: 'Time to first step and frame',
      description: 'From submit to the first finished sampling step or Picard round (when progress starts to show), and to the first frame encoded; queue wait included.',
      targets: [
        q(quantile(0.5, 'propeller_job_first_step_seconds', []), 'p50 first step'),
        q(quantile(0.95, 'propeller_job_first_step_seconds', []), 'p95 first step'),
        q(quantile(0.5, 'propeller_job_first_frame_seconds', []), 'p50 first frame'),
        q(quantile(0.95, 'propeller_job_first_frame_seconds', []), 'p95 first frame'),
      ],
      unit: 's',
    },
    {
      title: 'Round duration',
      description: 'One sampling round (a step, or a Picard iteration over the window) with every layout window evaluated, by engine.',
      targets: [q(quantile(0.5, 'propeller_round_duration_seconds', ['engine']), 'p50 {{engine}}'), q(quantile(0.95, 'propeller_round_duration_seconds', ['engine']), 'p95 {{engine}}')],
      unit: 's',
    },
    { title: 'Picard iterations per second', description: 'Picard rounds run per second over all jobs.', targets: [q(`sum(${rate('propeller_picard_iterations_total')})`, 'iterations/s')], unit: 'ops' },
    {
      title: 'Picard stride',
      description: 'Mean steps the Picard window advances per iteration (1 = no better than sequential; the window size at best).',
      targets: [q(mean('propeller_picard_stride_steps', []), 'mean stride')],
    },
    {
      title: 'Picard window',
      description: 'Mean points (steps) a Picard iteration evaluated: the auto sampler widens it on idle workers and narrows it to 1 on a busy cluster.',
      targets: [q(mean('propeller_picard_window_steps', []), 'mean window')],
    },
    {
      title: 'Evaluations per second by sampler',
      description: 'Model evaluations per second spent by jobs that finished sampling, by sampler (sequential, picard, auto): where the GPU time goes.',
      targets: [q(`sum by (sampler) (${rate('propeller_job_evaluations_items_sum')})`, '{{sampler}}')],
      unit: 'ops',
      stack: true,
    },
    {
      title: 'Evaluations per job',
      description: 'Mean model evaluations a finished job spent sampling, by sampler: what parallel sampling costs in GPU time.',
      targets: [q(mean('propeller_job_evaluations_items', ['sampler']), '{{sampler}}')],
    },
    {
      title: 'Picard error ratio',
      description: 'Mean point error of an iteration over the acceptance threshold; points below 1 converge.',
      targets: [q(quantile(0.5, 'propeller_picard_error_ratio', []), 'p50'), q(quantile(0.9, 'propeller_picard_error_ratio', []), 'p90')],
    },
    {
      title: 'Seam ratio',
      description: 'Mean latent change across window edges over the median change elsewhere, of jobs finished in the window, by axis (1 = seamless).',
      targets: [q(mean('propeller_seam_ratio', ['axis']), '{{axis}}')],
    },
    { title: 'Frames encoded per second', description: 'Frames written to ffmpeg per second.', targets: [q(`sum(${rate('propeller_frames_encoded_total')})`, 'frames/s')], unit: 'ops' },
    {
      title: 'Unfinished jobs by tenant',
      description: 'Queued, running and encoding jobs of each tenant (max over replicas sharing the store). The first 50 tenants a coordinator sees have their own series, later ones share "other"; jobs without authentication are "anonymous".',
      targets: [q('max by (tenant, state) (propeller_tenant_jobs)', '{{tenant}} {{state}}')],
      stack: true,
    },
    {
      title: 'Evaluations per second by tenant',
      description: "Window evaluations per second spent on each tenant's jobs: its share of the GPUs.",
      targets: [q(`sum by (tenant) (${rate('propeller_tenant_evaluations_total')})`, '{{tenant}}')],
      unit: 'ops',
      stack: true,
    },
    {
      title: 'Micro-batch size',
      description: 'Mean window evaluations per micro-batch sent to a worker (small batches waste a GPU).',
      targets: [q(mean('propeller_batch_size_items', []), 'items')],
    },
  ],
};
