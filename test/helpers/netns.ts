import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { findBinary } from './binaries.ts';

/**
 * A Linux network namespace joined to this one by a veth pair, for link
 * faults between a coordinator (here) and a worker (there): the link taken
 * down, one direction black-holed, the rate limited with `tc tbf` (this
 * kernel has no netem). Needs root and iproute2 (`ip`, `tc`); `npm test`
 * installs iproute2 when it is missing (scripts/test-prepare.ts). Each
 * namespace has its own /30 in 10.213.0.0/16 and short random device names.
 */
export class NetNamespace {
  private constructor(
    readonly name: string,
    /** Device and address on this side. */
    readonly hostDev: string,
    readonly hostIp: string,
    /** Device and address inside the namespace. */
    readonly nsDev: string,
    readonly nsIp: string,
    private readonly ip: string,
    private readonly tc: string,
  ) {}

  /** Creates the namespace and its link, up; throws a clear error without root or iproute2. */
  static create(): NetNamespace {
    if (process.getuid?.() !== 0) throw new Error('network fault tests need root (network namespaces, veth links, tc): run npm test as root, as CI does');
    const ip = findBinary('ip');
    const tc = findBinary('tc');
    if (!ip || !tc) throw new Error("network fault tests need iproute2's ip and tc: npm test installs it (scripts/test-prepare.ts), or run: sudo apt-get install -y iproute2");
    const tag = randomBytes(3).toString('hex');
    const net = randomInt(0, 64) * 4;
    const third = randomInt(1, 250);
    const ns = new NetNamespace(`pfault-${tag}`, `pv${tag}h`, `10.213.${third}.${net + 1}`, `pv${tag}n`, `10.213.${third}.${net + 2}`, ip, tc);
    try {
      ns.sh(ip, ['netns', 'add', ns.name]);
      ns.sh(ip, ['link', 'add', ns.hostDev, 'type', 'veth', 'peer', 'name', ns.nsDev]);
      ns.sh(ip, ['link', 'set', ns.nsDev, 'netns', ns.name]);
      ns.sh(ip, ['addr', 'add', `${ns.hostIp}/30`, 'dev', ns.hostDev]);
      ns.sh(ip, ['link', 'set', ns.hostDev, 'up']);
      ns.inside(['ip', 'addr', 'add', `${ns.nsIp}/30`, 'dev', ns.nsDev]);
      ns.inside(['ip', 'link', 'set', ns.nsDev, 'up']);
      ns.inside(['ip', 'link', 'set', 'lo', 'up']);
    } catch (err) {
      ns.destroy();
      throw err;
    }
    return ns;
  }

  /** The command prefix that runs a program inside the namespace (the same process: `ip netns exec` execs it). */
  get prefix(): string[] {
    return [this.ip, 'netns', 'exec', this.name];
  }

  /** Takes the link down (both directions). */
  linkDown(): void {
    this.sh(this.ip, ['link', 'set', this.hostDev, 'down']);
  }

  linkUp(): void {
    this.sh(this.ip, ['link', 'set', this.hostDev, 'up']);
  }

  /** Drops everything the namespace sends back here (requests arrive, no answer or acknowledgement returns). */
  dropReplies(): void {
    this.inside(['ip', 'route', 'add', 'blackhole', `${this.hostIp}/32`]);
  }

  restoreReplies(): void {
    this.inside(['ip', 'route', 'del', 'blackhole', `${this.hostIp}/32`]);
  }

  /** Limits both directions to `mbit` Mbit/s (token bucket: `tc tbf`). */
  rateLimit(mbit: number): void {
    const args = ['root', 'tbf', 'rate', `${mbit}mbit`, 'burst', '32kbit', 'latency', '400ms'];
    this.sh(this.tc, ['qdisc', 'replace', 'dev', this.hostDev, ...args]);
    this.inside(['tc', 'qdisc', 'replace', 'dev', this.nsDev, ...args]);
  }

  clearRateLimit(): void {
    this.sh(this.tc, ['qdisc', 'del', 'dev', this.hostDev, 'root'], true);
    this.inside(['tc', 'qdisc', 'del', 'dev', this.nsDev, 'root'], true);
  }

  /** Removes the namespace and its link (idempotent). */
  destroy(): void {
    this.sh(this.ip, ['link', 'del', this.hostDev], true);
    this.sh(this.ip, ['netns', 'del', this.name], true);
  }

  private inside(cmd: string[], quiet = false): void {
    const bin = cmd[0] === 'ip' ? this.ip : cmd[0] === 'tc' ? this.tc : cmd[0]!;
    this.sh(this.ip, ['netns', 'exec', this.name, bin, ...cmd.slice(1)], quiet);
  }

  private sh(bin: string, args: string[], quiet = false): void {
    try {
      execFileSync(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      if (!quiet) throw new Error(`${bin} ${args.join(' ')} failed: ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? err}`);
    }
  }
}
