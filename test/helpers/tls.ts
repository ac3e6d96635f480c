import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files of a test PKI, by path. */
export interface TestPki {
  dir: string;
  /** CA that signs the server and client certificates. */
  ca: string;
  /** Server certificate for 127.0.0.1 and localhost, and its key. */
  serverCert: string;
  serverKey: string;
  /** Client certificate (a coordinator's, for mTLS to workers), and its key. */
  clientCert: string;
  clientKey: string;
  /** Another CA, and a client certificate it signed, which the servers must refuse. */
  rogueCa: string;
  rogueCert: string;
  rogueKey: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA key and self-signed certificate in `cwd`. */
function makeCa(cwd: string, name: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], cwd);
  openssl(['req', '-x509', '-new', '-key', `${name}.key`, '-sha256', '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', `${name}.pem`], cwd);
}

/** A leaf key and certificate in `cwd`, signed by CA `ca`, with the extensions of `ext`. */
function makeLeaf(cwd: string, name: string, ca: string, cn: string, ext: string): void {
  writeFileSync(join(cwd, `${name}.ext`), ext);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], cwd);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], cwd);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`], cwd);
}

/**
 * Generates a throwaway PKI with the system's `openssl`: a CA, a server
 * certificate with SAN IP:127.0.0.1 and DNS:localhost, a client certificate,
 * and a client certificate of an unrelated CA. EC P-256 keys: fast.
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'propeller-pki-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'rogue-ca');
  makeLeaf(dir, 'server', 'ca', 'propeller-test-server', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  makeLeaf(dir, 'client', 'ca', 'propeller-test-coordinator', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  makeLeaf(dir, 'rogue', 'rogue-ca', 'propeller-test-rogue', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  const p = (f: string) => join(dir, f);
  return {
    dir,
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    rogueCa: p('rogue-ca.pem'),
    rogueCert: p('rogue.pem'),
    rogueKey: p('rogue.key'),
  };
}
