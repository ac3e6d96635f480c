/**
 * Where the ffmpeg and ffprobe binaries are.
 *
 * Both come from npm (`@ffmpeg-installer/ffmpeg`, `@ffprobe-installer/ffprobe`),
 * whose per-platform packages make the binary executable in a postinstall
 * `chmod`. npm may hold install scripts back until approved, and the
 * installers themselves only check that the file exists, so a clean install
 * can hand us a path that cannot be spawned. We check the execute bit here and
 * fall back to a system binary, or fail with an error that says how to fix it.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BinaryNotFoundError } from './errors.ts';

/** Binaries this module can locate. */
export type BinaryName = 'ffmpeg' | 'ffprobe';

/** System locations tried, in order, when the npm binary is unusable. */
export const SYSTEM_BINARY_DIRS: readonly string[] = ['/usr/bin', '/usr/local/bin'];

const INSTALLER_PACKAGE: Record<BinaryName, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};

const require = createRequire(import.meta.url);
const resolved = new Map<BinaryName, string>();

/** True when `path` is a regular file this process may execute. */
export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Path the npm installer package reports, or undefined. Loaded with
 * `require` inside a try: the installers throw at load time on platforms
 * they do not ship, and that must not break importing the encoder.
 */
function installerPath(name: BinaryName): string | undefined {
  try {
    const mod = require(INSTALLER_PACKAGE[name]) as { path?: unknown };
    return typeof mod.path === 'string' ? mod.path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Absolute path of an executable `name`.
 *
 * - `explicit` given: it must be executable; no fallback, since the caller chose it.
 * - otherwise: the npm installer's binary, then `SYSTEM_BINARY_DIRS`.
 *
 * The default lookup is memoised for the life of the process.
 *
 * @throws {BinaryNotFoundError} with the paths tried and how to fix it.
 */
export function resolveBinary(name: BinaryName, explicit?: string): string {
  if (explicit !== undefined) {
    if (isExecutableFile(explicit)) return explicit;
    throw new BinaryNotFoundError(
      `${name} at ${explicit} is missing or not executable (check the path, or chmod +x ${explicit})`,
      { binary: name, tried: [explicit] },
    );
  }
  const cached = resolved.get(name);
  if (cached !== undefined) return cached;

  const fromNpm = installerPath(name);
  const candidates = [...(fromNpm ? [fromNpm] : []), ...SYSTEM_BINARY_DIRS.map((d) => `${d}/${name}`)];
  const found = candidates.find(isExecutableFile);
  if (found !== undefined) {
    resolved.set(name, found);
    return found;
  }

  const pkg = `${INSTALLER_PACKAGE[name].split('/')[0]}/${process.platform}-${process.arch}`;
  const fix =
    fromNpm !== undefined
      ? `${fromNpm} exists but is not executable: npm did not run ${pkg}'s postinstall chmod. ` +
        `Fix with \`chmod +x ${fromNpm}\`, or allow that package's install script and reinstall it, ` +
        `or install ${name} system-wide (e.g. \`apt-get install ffmpeg\`).`
      : `${INSTALLER_PACKAGE[name]} is not installed for ${process.platform}-${process.arch}. ` +
        `Run \`npm install\`, or install ${name} system-wide (e.g. \`apt-get install ffmpeg\`).`;
  throw new BinaryNotFoundError(`no executable ${name} found (tried ${candidates.join(', ')}). ${fix}`, {
    binary: name,
    tried: candidates,
  });
}
