/**
 * Checks `propeller` command lines without running them: each argument list
 * (a JSON array of arrays on stdin) goes through the CLI's own strict flag
 * parsing with --help appended, in this one process. Prints a JSON array of
 * failures: the argument list and what the CLI said.
 *
 *   echo '[["submit","--prompt","fox"]]' | node --import tsx test/helpers/cli-flags-check.ts
 */
import { text } from 'node:stream/consumers';
import { runCli } from '../../cli/commands.ts';

const lists = JSON.parse(await text(process.stdin)) as string[][];
const env = { address: '127.0.0.1:1', logLevel: 'error' as const, modelDir: '/nonexistent' };
const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
const failures: { args: string[]; error: string }[] = [];
for (const args of lists) {
  let said = '';
  const capture = (chunk: string | Uint8Array): boolean => {
    said += String(chunk);
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    const code = await runCli([...args, '--help'], env);
    if (code !== 0) failures.push({ args, error: `exit ${code}: ${said.trim().split('\n')[0]}` });
  } catch (err) {
    failures.push({ args, error: err instanceof Error ? err.message : String(err) });
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}
write.out(JSON.stringify(failures) + '\n');
