import type { ClientTlsOptions, ServerTlsOptions } from '../common/tls.ts';

type Values = Record<string, string | boolean | undefined>;

/** parseArgs options of a server's TLS flags (`--tls-cert`, `--tls-key`, `--tls-ca`). */
export const SERVER_TLS_FLAGS = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
} as const;

/** --tls-cert/--tls-key/--tls-ca of a server command: TLS options, or undefined for plaintext. */
export function serverTlsFlags(values: Values): ServerTlsOptions | undefined {
  const cert = values['tls-cert'] as string | undefined;
  const key = values['tls-key'] as string | undefined;
  const ca = values['tls-ca'] as string | undefined;
  if (!cert && !key && !ca) return undefined;
  if (!cert || !key) throw new Error('--tls-cert and --tls-key go together (and --tls-ca needs them)');
  return { cert, key, ...(ca ? { ca } : {}) };
}

/** Client TLS from `<prefix>ca`, `<prefix>cert`, `<prefix>key` flags: undefined (plaintext) when none is given. */
export function clientTlsFlags(values: Values, prefix: string, fallbackCa?: string): ClientTlsOptions | undefined {
  const ca = (values[`${prefix}ca`] as string | undefined) ?? fallbackCa;
  const cert = values[`${prefix}cert`] as string | undefined;
  const key = values[`${prefix}key`] as string | undefined;
  if (!cert !== !key) throw new Error(`--${prefix}cert and --${prefix}key go together`);
  if (!ca && !cert) return undefined;
  return { ...(ca ? { ca } : {}), ...(cert ? { cert, key } : {}) };
}
