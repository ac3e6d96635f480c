import { createLogger } from '../common/logger.ts';
import { startCoordinator } from '../coordinator/server.ts';
import { intFlag, parse, type CliEnv } from './args.ts';

const HELP = `propeller coordinator [options]
  --listen HOST:PORT       JobService address (default 127.0.0.1:7400; port 0 picks one)
  --workers A,B,...        worker addresses host:port
  --data-dir DIR           where outputs are written (default data)
  --max-jobs N             jobs run at once (default 2)
  --wire-dtype float16|float32   latents on the wire (default float16)
Prints {"event":"listening","address":...} on stdout once serving; stops on SIGTERM/SIGINT.`;

/** `propeller coordinator`: runs a coordinator until a signal. Returns -1 (keep running) or an exit code. */
export async function runCoordinatorProcess(args: string[], env: CliEnv): Promise<number> {
  const { values } = parse(args, {
    listen: { type: 'string', default: '127.0.0.1:7400' },
    workers: { type: 'string', default: '' },
    'data-dir': { type: 'string', default: 'data' },
    'max-jobs': { type: 'string' },
    'wire-dtype': { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const log = createLogger('coordinator', { level: env.logLevel });
  const coordinator = await startCoordinator(
    {
      listen: values.listen as string,
      workers: (values.workers as string).split(',').filter(Boolean),
      dataDir: values['data-dir'] as string,
      maxConcurrentJobs: intFlag('max-jobs', values['max-jobs'], 2),
      wireDtype: (values['wire-dtype'] as 'float16' | 'float32' | undefined) ?? 'float16',
    },
    log,
  );
  process.stdout.write(JSON.stringify({ event: 'listening', address: coordinator.address, pid: process.pid }) + '\n');
  const stop = () => {
    coordinator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return -1;
}
