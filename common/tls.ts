import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * TLS for the gRPC services, from PEM files named in config.
 *
 * Server side (`serverTlsSchema`): a certificate and key; with `ca` the
 * server also requires every client to present a certificate signed by that
 * CA (mutual TLS: how workers admit only their coordinators).
 *
 * Client side (`clientTlsSchema`): the CA that signed the server's
 * certificate (the system roots when absent), and the client's own
 * certificate and key for a server that requires one.
 */

export const serverTlsSchema = z.object({
  /** PEM certificate chain of this server. */
  cert: z.string().min(1),
  /** PEM private key of the certificate. */
  key: z.string().min(1),
  /** PEM CA bundle: when set, clients must present a certificate it signed (mTLS). */
  ca: z.string().min(1).optional(),
});

export const clientTlsSchema = z
  .object({
    /** PEM CA bundle that signed the server's certificate (default: the system roots). */
    ca: z.string().min(1).optional(),
    /** PEM client certificate, for servers that require one. */
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
  })
  .refine((t) => !t.cert === !t.key, 'cert and key go together');

export type ServerTlsOptions = z.infer<typeof serverTlsSchema>;
export type ClientTlsOptions = z.infer<typeof clientTlsSchema>;

function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${option}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Server credentials: TLS (and mTLS with `ca`) when `tls` is given, else plaintext. `option` names the config key in errors. */
export function serverCredentials(tls: ServerTlsOptions | undefined, option = 'tls'): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const ca = tls.ca ? readPem(tls.ca, `${option}.ca`) : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: readPem(tls.cert, `${option}.cert`), private_key: readPem(tls.key, `${option}.key`) }], ca !== null);
}

/** Channel credentials: TLS when `tls` is given (with a client certificate when it names one), else plaintext. */
export function channelCredentials(tls: ClientTlsOptions | undefined, option = 'tls'): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    tls.ca ? readPem(tls.ca, `${option}.ca`) : null,
    tls.key ? readPem(tls.key, `${option}.key`) : null,
    tls.cert ? readPem(tls.cert, `${option}.cert`) : null,
  );
}

/** True for a listen address only this machine can reach. */
export function isLoopbackListen(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
