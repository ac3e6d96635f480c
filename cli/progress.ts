import type { Job__Output } from '../common/proto/generated/propeller/v1/Job.ts';

/**
 * Renders job progress: one self-updating line on a terminal, or a line
 * per 10% (and per state change) when output is piped, so logs stay short.
 */
export class ProgressView {
  private lastLine = '';
  private lastBucket = -1;
  private lastState = '';
  private readonly tty: boolean;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = !!out.isTTY;
  }

  update(job: Job__Output): void {
    const p = job.progress;
    const sampling = p ? (p.totalSteps ? p.step / p.totalSteps : 0) : 0;
    const encoding = p && p.totalFrames ? p.framesEncoded / p.totalFrames : 0;
    // Sampling is most of the work; encoding the last 10%.
    const fraction = p && p.totalFrames ? 0.9 * sampling + 0.1 * encoding : sampling;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
    const parts = [`${bar} ${(fraction * 100).toFixed(0).padStart(3)}%`, job.state.padEnd(9)];
    if (p) {
      parts.push(`step ${p.step}/${p.totalSteps}`);
      if (p.picardIteration) parts.push(`picard round ${p.picardIteration} window ${p.picardWindow} stride ${p.stride} err ${p.errorRatio.toFixed(2)}x tol`);
      parts.push(`${p.evaluations} evals`);
      if (p.totalFrames) parts.push(`frames ${p.framesEncoded}/${p.totalFrames}`);
      if (p.etaSeconds > 0 && job.state === 'RUNNING') parts.push(`eta ${p.etaSeconds.toFixed(0)}s`);
    }
    const line = parts.join('  ');
    if (this.tty) {
      if (line !== this.lastLine) this.out.write(`\r${line}\x1b[K`);
    } else {
      const bucket = Math.floor(fraction * 10);
      if (bucket !== this.lastBucket || job.state !== this.lastState) this.out.write(line + '\n');
      this.lastBucket = bucket;
    }
    this.lastState = job.state;
    this.lastLine = line;
  }

  done(): void {
    if (this.tty && this.lastLine) this.out.write('\n');
  }
}
