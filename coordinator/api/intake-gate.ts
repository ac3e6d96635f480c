import { ResourceExhaustedError } from '../../common/errors.ts';

/**
 * Bounds how many uploaded inputs are checked (ffprobe, and the file they
 * are written to) at once: `perCoordinator` in all, the rest waiting in
 * order up to `maxWaiting`; and `perTenant` per tenant, past which a Submit
 * answers RESOURCE_EXHAUSTED at once, so one tenant's burst of uploads
 * neither fills the coordinator's disk and CPU nor delays everyone else.
 */
export class IntakeGate {
  private active = 0;
  private readonly byTenant = new Map<string, number>();
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limits: { perCoordinator: number; perTenant: number; maxWaiting: number }) {
    for (const [k, v] of Object.entries(limits)) if (!Number.isInteger(v) || v < (k === 'maxWaiting' ? 0 : 1)) throw new RangeError(`${k} must be a positive integer, got ${v}`);
  }

  /** Waits for a slot; resolves with its release (call it once, in a finally). */
  async enter(tenant: string): Promise<() => void> {
    const mine = this.byTenant.get(tenant) ?? 0;
    if (mine >= this.limits.perTenant) {
      throw new ResourceExhaustedError(`${tenant ? `tenant "${tenant}"` : 'this client'} has ${mine} uploaded inputs being checked, its limit; retry when one is done`);
    }
    this.byTenant.set(tenant, mine + 1);
    try {
      if (this.active >= this.limits.perCoordinator) {
        if (this.waiting.length >= this.limits.maxWaiting) throw new ResourceExhaustedError(`${this.active} uploaded inputs are being checked and ${this.waiting.length} wait; retry later`);
        await new Promise<void>((resolve) => this.waiting.push(resolve));
      } else this.active++;
    } catch (err) {
      this.leaveTenant(tenant);
      throw err;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.leaveTenant(tenant);
      // The slot passes straight to the next waiter (active stays the same).
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }

  /** Inputs being checked now, and waiting. */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  private leaveTenant(tenant: string): void {
    const n = (this.byTenant.get(tenant) ?? 1) - 1;
    if (n <= 0) this.byTenant.delete(tenant);
    else this.byTenant.set(tenant, n);
  }
}
