import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Searched after PATH: Debian puts nats-server in /usr/sbin, which a user's PATH may lack. */
export const SYSTEM_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];

/** The executable `name` on PATH or in the system directories, or undefined. */
export function findBinary(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...SYSTEM_DIRS]) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile()) return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * The path of an executable the tests run from a Debian package, found on
 * PATH or in the system directories. Throws when it is missing, naming the
 * package (npm test installs it through scripts/test-prepare.ts), so a test
 * that needs it fails rather than skips.
 */
export function debianBinary(name: string, pkg: string): string {
  const path = findBinary(name);
  if (path) return path;
  throw new Error(`${name} not found on PATH or in ${SYSTEM_DIRS.join(', ')}: install Debian's ${pkg} package (npm test does, through scripts/test-prepare.ts), or run: sudo apt-get install -y --no-install-recommends ${pkg}`);
}
