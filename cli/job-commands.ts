import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Job__Output } from '../common/proto/generated/propeller/v1/Job.ts';
import { intFlag, parse, type CliEnv } from './args.ts';
import { JobClient } from './job-client.ts';
import { clientTlsFlags } from './security-flags.ts';
import { ProgressView } from './progress.ts';
import { SPEC_FLAGS, SPEC_HELP, specFromFlags } from './job-spec-flags.ts';
import { MODELS_BUILD_HELP } from './models-command.ts';
import { PreviewFile } from './preview-file.ts';

export const JOB_COMMANDS = ['submit', 'watch', 'get', 'ls', 'cancel', 'download', 'workers', 'models'];

const EXT: Record<string, string> = { mp4: 'mp4', webm: 'webm', latent: 'latent' };

/** Runs a job command against the coordinator at --address. */
export async function runJobCommand(command: string, args: string[], env: CliEnv): Promise<number> {
  const common = {
    address: { type: 'string', default: env.address },
    token: { type: 'string' },
    'tls-ca': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'connect-timeout': { type: 'string', default: '10' },
  } as const;
  switch (command) {
    case 'submit': {
      const { values } = parse(args, { ...common, ...SPEC_FLAGS, wait: { type: 'boolean' }, out: { type: 'string' }, 'request-id': { type: 'string' }, preview: { type: 'string' } });
      if (values.help) return help(`propeller submit [--wait] [--out FILE] [--request-id ID] [--preview FILE]\n  --preview FILE           with --wait: keep FILE (PNG) showing the job's live preview, then its contact sheet\n${SPEC_HELP}`);
      if (values.preview !== undefined && !values.wait) throw new Error('--preview needs --wait (or follow the job with: propeller watch ID --preview FILE)');
      const client = await clientOf(values, env);
      try {
        const job = await client.submit(specFromFlags(values), (values['request-id'] as string | undefined) ?? '');
        if (!values.wait) {
          process.stdout.write(job.id + '\n');
          return 0;
        }
        process.stderr.write(`job ${job.id} submitted\n`);
        return await followAndDownload(client, job, (values.out as string | undefined) ?? `out/${job.id}.${EXT[job.spec?.output?.format ?? 'mp4']}`, values.preview as string | undefined);
      } finally {
        client.close();
      }
    }
    case 'watch': {
      const { values, positionals } = parse(args, { ...common, preview: { type: 'string' } }, true);
      if (values.help || positionals.length !== 1) return help("propeller watch ID [--preview FILE]\n  --preview FILE  keep FILE (PNG) showing the job's live preview, then its contact sheet (jobs submitted with previews)");
      const client = await clientOf(values, env);
      try {
        const last = await follow(client, positionals[0]!, values.preview as string | undefined);
        return last.state === 'SUCCEEDED' ? 0 : 1;
      } finally {
        client.close();
      }
    }
    case 'get':
    case 'cancel': {
      const { values, positionals } = parse(args, common, true);
      if (values.help || positionals.length !== 1) return help(`propeller ${command} ID`);
      const client = await clientOf(values, env);
      try {
        const job = command === 'get' ? await client.get(positionals[0]!) : await client.cancel(positionals[0]!);
        process.stdout.write(JSON.stringify(job, null, 2) + '\n');
        return 0;
      } finally {
        client.close();
      }
    }
    case 'ls': {
      const { values } = parse(args, { ...common, state: { type: 'string' }, limit: { type: 'string', default: '50' } });
      if (values.help) return help('propeller ls [--state RUNNING,QUEUED,...] [--limit N (0: every job)]');
      const limit = intFlag('limit', values.limit);
      const client = await clientOf(values, env);
      try {
        const jobs = await client.list(values.state ? String(values.state).split(',') : [], limit);
        table(
          ['ID', 'STATE', 'MODEL', 'SIZE', 'STEP', 'CREATED'],
          jobs.map((j) => [j.id, j.state, j.spec?.model ?? '', `${j.spec?.frames}x${j.spec?.width}x${j.spec?.height}`, `${j.progress?.step}/${j.progress?.totalSteps}`, new Date(Number(j.createdAtMs)).toISOString()]),
        );
        return 0;
      } finally {
        client.close();
      }
    }
    case 'download': {
      const { values, positionals } = parse(args, { ...common, out: { type: 'string' } }, true);
      if (values.help || positionals.length !== 1 || !values.out) return help('propeller download ID --out FILE');
      const client = await clientOf(values, env);
      try {
        mkdirSync(dirname(values.out as string), { recursive: true });
        const { bytes } = await client.download(positionals[0]!, values.out as string);
        process.stderr.write(`wrote ${values.out} (${bytes} bytes)\n`);
        return 0;
      } finally {
        client.close();
      }
    }
    case 'workers': {
      const { values } = parse(args, common);
      if (values.help) return help('propeller workers');
      const client = await clientOf(values, env);
      try {
        const { workers } = await client.workers();
        table(
          ['ID', 'ADDRESS', 'STATE', 'DEVICE', 'IN-FLIGHT', 'EVALS', 'EVALS/S', 'MODELS', 'LAST ERROR'],
          workers.map((w) => [w.id, w.address, w.state, w.device, String(w.inFlight), String(w.evaluations), w.evaluationsPerSecond.toFixed(1), w.models.join(','), w.lastError]),
        );
        return 0;
      } finally {
        client.close();
      }
    }
    case 'models': {
      const { values } = parse(args, common);
      if (values.help) return help(`propeller models   (the cluster's models)\n\n${MODELS_BUILD_HELP}`);
      const client = await clientOf(values, env);
      try {
        const { models } = await client.models();
        table(
          ['NAME', 'KIND', 'AVAILABLE', 'NATIVE', 'PREDICTION', 'WORKERS', 'PROMPTS / REASON'],
          models.map((m) => [
            m.name,
            m.kind,
            m.available ? 'yes' : 'no',
            m.nativeFrames ? `${m.nativeFrames}x${m.nativeWidth}x${m.nativeHeight}` : '',
            m.predictionType,
            String(m.workers.length),
            m.available ? m.prompts.join(',') : m.reason,
          ]),
        );
        return 0;
      } finally {
        client.close();
      }
    }
  }
  return 2;
}

/**
 * The JobService client of a command, connected: --token (or
 * $PROPELLER_TOKEN) as the bearer token; TLS when --tls-ca (or
 * $PROPELLER_TLS_CA) names the CA of the coordinator's certificate, with
 * --tls-cert/--tls-key for a coordinator that requires client certificates;
 * up to --connect-timeout seconds to connect (0: fail at once).
 */
async function clientOf(values: Record<string, string | boolean | undefined>, env: CliEnv): Promise<JobClient> {
  const seconds = Number(values['connect-timeout']);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`--connect-timeout must be a number of seconds >= 0, got "${values['connect-timeout']}"`);
  const tls = clientTlsFlags(values, 'tls-', env.tlsCa);
  const client = new JobClient(values.address as string, undefined, { token: (values.token as string | undefined) ?? env.token, tls });
  try {
    if (seconds > 0) await client.waitForReady(seconds * 1000);
  } catch (err) {
    client.close();
    throw err;
  }
  return client;
}

/** Follows a job with a progress bar, then downloads its output. Exit code 0 on success. */
export async function followAndDownload(client: JobClient, job: Job__Output, out: string, preview?: string): Promise<number> {
  const last = await follow(client, job.id, preview);
  if (last.state !== 'SUCCEEDED') return 1;
  mkdirSync(dirname(out), { recursive: true });
  const { bytes } = await client.download(job.id, out);
  process.stderr.write(`wrote ${out} (${bytes} bytes)\n`);
  return 0;
}

/** Watches job `id` to its end with a progress bar (and its previews in the file `preview`); prints the outcome. */
async function follow(client: JobClient, id: string, preview?: string): Promise<Job__Output> {
  const view = new ProgressView();
  const file = preview !== undefined ? new PreviewFile(preview) : undefined;
  let sheet = false;
  const last = await client.watch(id, (e) => {
    if (e.job) view.update(e.job);
    if (e.preview && file) file.offer(e.preview.image);
    sheet ||= e.preview?.contactSheet === true;
  });
  view.done();
  printOutcome(last);
  if (file) {
    await file.flush();
    process.stderr.write(file.written ? `wrote ${file.path} (${sheet ? 'contact sheet' : 'latest preview'})\n` : `no preview of job ${id} arrived (submitted without previews?)\n`);
  }
  return last;
}

function printOutcome(job: Job__Output): void {
  const secs = job.finishedAtMs && job.startedAtMs ? ((Number(job.finishedAtMs) - Number(job.startedAtMs)) / 1000).toFixed(1) : '?';
  if (job.state === 'SUCCEEDED') process.stderr.write(`job ${job.id} succeeded in ${secs} s (${job.progress?.evaluations} evaluations)\n`);
  else process.stderr.write(`job ${job.id} ${job.state}${job.error ? `: ${job.error}` : ''}\n`);
}

function help(text: string): number {
  process.stdout.write(text + '\n');
  return 0;
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
}
