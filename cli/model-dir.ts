import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the reference models are built unless $PROPELLER_MODEL_DIR says otherwise. */
export function defaultModelDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '../.cache/models');
}
