import { readFileSync } from 'node:fs';
import { parseTenantTokens, TokenAuthenticator, type TenantToken } from '../../common/auth.ts';

/** The `auth` section of the coordinator config (coordinator/config.ts). */
export interface TenantTokenSources {
  tokensFile?: string | undefined;
  tokens: readonly TenantToken[];
}

/**
 * The JobService's authenticator: the tokens file's entries plus the inline
 * ones. No entries at all: authentication is off. Errors name the file and
 * the entry; a file that cannot be read is an error, never an open service.
 */
export function loadTenantTokens(sources: TenantTokenSources): TokenAuthenticator {
  const entries: TenantToken[] = [...sources.tokens];
  if (sources.tokensFile) {
    let text: string;
    try {
      text = readFileSync(sources.tokensFile, 'utf8');
    } catch (err) {
      throw new Error(`auth.tokensFile: cannot read ${sources.tokensFile}: ${(err as Error).message}`, { cause: err });
    }
    const fromFile = parseTenantTokens(text, `auth.tokensFile ${sources.tokensFile}`);
    if (fromFile.length === 0) throw new Error(`auth.tokensFile ${sources.tokensFile} holds no tokens; remove the option to run without authentication`);
    entries.push(...fromFile);
  }
  return new TokenAuthenticator(entries);
}
