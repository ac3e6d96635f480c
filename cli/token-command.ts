import { generateToken, tokenLine } from '../common/auth.ts';
import { parse } from './args.ts';

const HELP = `propeller token --tenant NAME [--admin]
  Makes a random bearer token for a tenant. Prints the token (give it to the tenant: --token or
  $PROPELLER_TOKEN) on stdout, and on stderr the line to append to the coordinator's tokens file
  (--tokens-file, or $PROPELLER_TOKENS): tenant:sha256hex[:admin]. Only the hash is stored; the
  token itself cannot be recovered from it, so keep it now.
  --admin   the token sees and manages every tenant's jobs
  --json    print {"tenant","token","line"} on stdout instead`;

/** `propeller token`: generates a token and prints what to store. */
export function runTokenCommand(args: string[]): number {
  const { values } = parse(args, { tenant: { type: 'string' }, admin: { type: 'boolean' }, json: { type: 'boolean' } });
  if (values.help || !values.tenant) {
    process.stdout.write(HELP + '\n');
    return values.help ? 0 : 2;
  }
  const tenant = values.tenant as string;
  const token = generateToken();
  const line = tokenLine(tenant, token, values.admin === true);
  if (values.json) {
    process.stdout.write(JSON.stringify({ tenant, admin: values.admin === true, token, line }) + '\n');
    return 0;
  }
  process.stdout.write(token + '\n');
  process.stderr.write(`tokens file line for tenant "${tenant}"${values.admin ? ' (admin)' : ''}:\n${line}\n`);
  return 0;
}
