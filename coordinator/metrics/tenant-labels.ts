/**
 * The `tenant` label of per-tenant metrics, with bounded cardinality.
 * Tenants come from the coordinator's tokens file, so there are usually a
 * handful; still, every distinct value is a series per metric in Prometheus,
 * so only the first {@link DEFAULT_MAX_TENANT_LABELS} tenants a coordinator
 * sees get their own label, and later ones share `other`. Jobs submitted
 * without authentication (no tenant) are `anonymous`.
 */

/** Tenants with their own label, per coordinator process. */
export const DEFAULT_MAX_TENANT_LABELS = 50;

/** The label of jobs without a tenant (authentication off). */
export const ANONYMOUS_TENANT = 'anonymous';

/** The label every tenant past the limit shares. */
export const OTHER_TENANTS = 'other';

/** Maps tenants to label values: their name for the first `max` seen, `other` after. */
export class TenantLabels {
  private readonly named = new Set<string>();

  constructor(private readonly max = DEFAULT_MAX_TENANT_LABELS) {}

  /** The label value of `tenant` ('' or undefined: anonymous). */
  of(tenant: string | undefined): string {
    const t = tenant || ANONYMOUS_TENANT;
    if (this.named.has(t)) return t;
    if (this.named.size >= this.max) return OTHER_TENANTS;
    this.named.add(t);
    return t;
  }

  /** Every label value handed out so far (`other` included once reached), so gauges can report zeros. */
  seen(): string[] {
    return [...this.named];
  }
}
