/**
 * The compose file, Dockerfiles and systemd units, checked by structure
 * (no Docker engine here to build the images): every GPU worker reserves its
 * own GPU and runs with the CUDA provider, every file the images and mounts
 * name exists, and the units parse (and pass `systemd-analyze verify` where
 * that tool exists).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT } from '../../deploy/generate.ts';

const DOCKER = join(ROOT, 'deploy/docker');
type Obj = Record<string, any>;

function compose(): Obj {
  return parse(readFileSync(join(DOCKER, 'compose.yaml'), 'utf8'), { merge: true }) as Obj;
}

/** Flag value in an argv list (`--flag value` or `--flag=value`). */
function flag(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  return args[i]!.includes('=') ? args[i]!.slice(name.length + 1) : args[i + 1];
}

describe('deploy - containers and units', () => {
  it('compose: one worker per GPU, each reserving its own device and running on cuda:0 inside', () => {
    const c = compose();
    const services = Object.keys(c.services).sort();
    assert.deepEqual(services, ['coordinator', 'dcgm-exporter', 'grafana', 'nats', 'prometheus', 'worker-0', 'worker-1', 'worker-2', 'worker-3']);
    const gpus = new Set<string>();
    for (const name of services.filter((s) => s.startsWith('worker-'))) {
      const w = c.services[name];
      assert.equal(w.image, 'propeller/worker-cuda:0.1.0', name);
      assert.equal(w.command[0], 'worker');
      const devices = w.deploy.resources.reservations.devices;
      assert.equal(devices.length, 1);
      assert.equal(devices[0].driver, 'nvidia');
      assert.deepEqual(devices[0].capabilities, ['gpu']);
      for (const id of devices[0].device_ids) {
        assert.ok(!gpus.has(id), `GPU ${id} reserved twice`);
        gpus.add(id);
      }
      assert.equal(flag(w.command, '--device'), 'cuda:0', `${name}: the one visible GPU`);
      assert.equal(flag(w.command, '--id'), name);
      assert.equal(flag(w.command, '--advertise'), `${name}:7401`);
      assert.equal(flag(w.command, '--nats'), 'nats://nats:4222');
      assert.equal(flag(w.command, '--metrics-listen'), '0.0.0.0:9465');
      assert.equal(w.environment.PROPELLER_GPU_UUID, `\${GPU_UUID_${name.slice('worker-'.length)}:-}`, `${name}: its GPU's UUID, for the GPU dashboard`);
    }
    assert.equal(gpus.size, 4);
    const coord = c.services.coordinator;
    assert.equal(flag(coord.command, '--nats'), 'nats://nats:4222');
    assert.equal(flag(coord.command, '--metrics-listen'), '0.0.0.0:9464');
    assert.deepEqual(c.services.nats.command.slice(0, 1), ['-js']);
  });

  it('compose: build contexts, Dockerfiles and mounted folders exist, and Prometheus scrapes every service', () => {
    const c = compose();
    for (const [name, s] of Object.entries(c.services as Record<string, Obj>)) {
      if (s.build) {
        const context = resolve(DOCKER, s.build.context);
        assert.equal(context, ROOT, `${name} builds from the repository root`);
        assert.ok(existsSync(join(context, s.build.dockerfile)), `${name}: ${s.build.dockerfile}`);
      }
      for (const v of (s.volumes ?? []) as string[]) {
        const src = v.split(':')[0]!;
        if (src.startsWith('.')) assert.ok(existsSync(resolve(DOCKER, src)), `${name}: mount ${src}`);
        else assert.ok(src in c.volumes, `${name}: named volume ${src}`);
      }
    }
    const prom = parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as Obj;
    const targets = prom.scrape_configs.flatMap((j: Obj) => j.static_configs.flatMap((s: Obj) => s.targets)) as string[];
    for (const name of Object.keys(c.services).filter((s) => s === 'coordinator' || s.startsWith('worker-'))) {
      const port = flag(c.services[name].command, '--metrics-listen')!.split(':')[1];
      assert.ok(targets.includes(`${name}:${port}`), `prometheus.yml scrapes ${name}:${port}`);
    }
    const dcgm = prom.scrape_configs.find((j: Obj) => j.job_name === 'dcgm-exporter');
    assert.deepEqual({ honor: dcgm.honor_labels, targets: dcgm.static_configs[0].targets }, { honor: true, targets: ['dcgm-exporter:9400'] });
    // The exporter reads the counters the Kubernetes DaemonSet reads.
    const k8s = parseAllDocuments(readFileSync(join(ROOT, 'deploy/kubernetes/dcgm-exporter.yaml'), 'utf8'))[0]!.toJS() as Obj;
    assert.equal(c.configs['dcgm-counters'].content, k8s.data['counters.csv']);
    assert.equal(c.services['dcgm-exporter'].configs[0].target, flag(c.services['dcgm-exporter'].command, '-f'));
  });

  it('Dockerfiles: the worker installs onnxruntime-node with cuda12 on a CUDA 12 + cuDNN runtime; both copy what the CLI imports', () => {
    const worker = readFileSync(join(DOCKER, 'worker-cuda.Dockerfile'), 'utf8');
    assert.match(worker, /ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --omit=dev/);
    assert.match(worker, /^FROM nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/m);
    const coordinator = readFileSync(join(DOCKER, 'coordinator.Dockerfile'), 'utf8');
    assert.match(coordinator, /ONNXRUNTIME_NODE_INSTALL=skip/);
    for (const text of [worker, coordinator]) {
      for (const m of text.matchAll(/^COPY (?!--from)([^\n]+)$/gm)) {
        const parts = m[1]!.trim().split(/\s+/);
        for (const src of parts.slice(0, -1)) assert.ok(existsSync(join(ROOT, src)), `COPY ${src} exists`);
      }
      assert.match(text, /ENTRYPOINT \["node", "--import", "tsx", "cli\/main\.ts"\]/);
      // Every top-level source folder the CLI imports is in the image.
      for (const dir of ['common', 'coordinator', 'worker', 'models', 'cli', 'proto']) assert.match(text, new RegExp(`COPY ${dir} \\./${dir}`), dir);
    }
  });

  it("each image's COPY list holds everything the CLI imports: the CLI starts from those files alone", async () => {
    for (const [file, command] of [
      ['coordinator.Dockerfile', 'coordinator'],
      ['worker-cuda.Dockerfile', 'worker'],
    ] as const) {
      const text = readFileSync(join(DOCKER, file), 'utf8');
      const app = mkdtempSync(join(tmpdir(), 'propeller-image-'));
      try {
        for (const m of text.matchAll(/^COPY (?!--from)([^\n]+)$/gm)) {
          const parts = m[1]!.trim().split(/\s+/);
          for (const src of parts.slice(0, -1)) cpSync(join(ROOT, src), join(app, src), { recursive: true });
        }
        // npm ci's output, which the image installs from the same lock file.
        symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
        const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/main.ts', command, '--help'], { cwd: app });
        assert.match(stdout, new RegExp(`propeller ${command} `), file);
        assert.match(stdout, /--metrics-listen/, file);
      } finally {
        rmSync(app, { recursive: true, force: true });
      }
    }
  });

  it('systemd units: absolute ExecStart with the metrics port, SIGTERM drain, and systemd-analyze verify where present', async () => {
    const dir = join(ROOT, 'deploy/systemd');
    for (const unit of ['propeller-coordinator.service', 'propeller-worker@.service']) {
      const text = readFileSync(join(dir, unit), 'utf8');
      const sections = [...text.matchAll(/^\[(\w+)\]$/gm)].map((m) => m[1]);
      assert.deepEqual(sections, ['Unit', 'Service', 'Install'], unit);
      const exec = /^ExecStart=(\S+) (.*)$/m.exec(text);
      assert.ok(exec && exec[1]!.startsWith('/'), `${unit}: absolute ExecStart`);
      assert.match(exec[2]!, /--import tsx cli\/main\.ts (coordinator|worker)/);
      assert.match(text, /^KillSignal=SIGTERM$/m);
    }
    assert.match(readFileSync(join(dir, 'propeller-coordinator.service'), 'utf8'), /--metrics-listen 0\.0\.0\.0:9464/);
    assert.match(readFileSync(join(dir, 'propeller-worker@.service'), 'utf8'), /--device cuda:%i/);
    const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
    if (analyze) {
      const tmp = mkdtempSync(join(tmpdir(), 'propeller-units-'));
      try {
        copyFileSync(join(dir, 'propeller-coordinator.service'), join(tmp, 'propeller-coordinator.service'));
        copyFileSync(join(dir, 'propeller-worker@.service'), join(tmp, 'propeller-worker@.service'));
        symlinkSync('propeller-worker@.service', join(tmp, 'propeller-worker@0.service'));
        const { stderr } = await promisify(execFile)(analyze, ['verify', join(tmp, 'propeller-coordinator.service'), join(tmp, 'propeller-worker@0.service')]);
        assert.doesNotMatch(stderr, /propeller-(coordinator|worker)[^\n]*(error|bad|invalid)/i);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  });
});
