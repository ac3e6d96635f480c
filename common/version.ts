/** Version reported by servers and the CLI. */
export const PROPELLER_VERSION = '0.1.0';
