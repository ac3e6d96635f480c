/**
 * The hardening of the Kubernetes manifests, which their schemas cannot
 * check: every pod template's security settings, Secrets that hold only
 * marked placeholders and provide every file the arguments name, network
 * policies that admit only who must talk, NATS as a three-server JetStream
 * cluster with its exporter, worker autoscaling on a metric the coordinator
 * exports, the DCGM exporter serving what the GPU dashboard reads, and
 * images pinned to exact versions and numeric users.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CoordinatorMetrics } from '../../coordinator/metrics.ts';
import { dashboardQueries } from '../../deploy/grafana/dashboards.ts';
import { DCGM_JOB, GPU_DASHBOARD } from '../../deploy/grafana/gpu-dashboard.ts';
import { ROOT } from '../../deploy/generate.ts';
import { find, manifests, matches, workloads, type Obj } from '../helpers/kubernetes-manifests.ts';

/** The UID the images create and run as, and the manifests run Propeller's pods as. */
const PROPELLER_UID = 10001;
/** Pods that must run as root, each for a reason its manifest states. */
const ROOT_PODS: Record<string, RegExp> = { 'dcgm-exporter': /pod-resources socket only\s+(# )?admits root/ };

const containersOf = (spec: Obj): Obj[] => [...(spec.initContainers ?? []), ...spec.containers];

describe('deploy - hardened Kubernetes manifests', () => {
  it('every pod template: seccomp RuntimeDefault, non-root numeric user, no privilege escalation, no capabilities, read-only root with writable emptyDirs', () => {
    const all = manifests();
    assert.deepEqual(workloads(all).map((m) => `${m.doc.kind}/${m.doc.metadata.name}`).sort(), ['DaemonSet/dcgm-exporter', 'Deployment/propeller-coordinator', 'StatefulSet/nats', 'StatefulSet/propeller-worker']);
    for (const { file, doc } of workloads(all)) {
      const name = doc.metadata.name as string;
      const spec = doc.spec.template.spec;
      const pod = spec.securityContext;
      assert.equal(pod?.seccompProfile?.type, 'RuntimeDefault', `${name}: seccomp`);
      assert.equal(spec.automountServiceAccountToken, false, `${name}: no API token mounted`);
      assert.equal(spec.hostNetwork ?? false, false, `${name}: no host network`);
      if (ROOT_PODS[name]) {
        assert.equal(pod.runAsUser, 0, name);
        assert.match(readFileSync(join(ROOT, 'deploy/kubernetes', file), 'utf8'), ROOT_PODS[name]!, `${name}: why it runs as root`);
      } else {
        assert.equal(pod.runAsNonRoot, true, `${name}: runAsNonRoot`);
        assert.ok(Number.isInteger(pod.runAsUser) && pod.runAsUser > 0, `${name}: numeric non-root runAsUser`);
      }
      const emptyDirs = new Set(spec.volumes.filter((v: Obj) => v.emptyDir).map((v: Obj) => v.name));
      for (const c of containersOf(spec)) {
        const sc = c.securityContext;
        const who = `${name}/${c.name}`;
        assert.equal(sc?.allowPrivilegeEscalation, false, `${who}: allowPrivilegeEscalation`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${who}: readOnlyRootFilesystem`);
        assert.deepEqual(sc.capabilities, { drop: ['ALL'] }, `${who}: capabilities drop ALL, add none`);
        assert.notEqual(sc.privileged, true, who);
        const tmp = (c.volumeMounts ?? []).find((m: Obj) => m.mountPath === '/tmp');
        if (c.name !== 'exporter' || name === 'dcgm-exporter') assert.ok(tmp && emptyDirs.has(tmp.name), `${who}: /tmp is a writable emptyDir`);
        for (const m of c.volumeMounts ?? []) {
          const v = spec.volumes.find((x: Obj) => x.name === m.name) ?? doc.spec.volumeClaimTemplates?.find((x: Obj) => x.metadata.name === m.name);
          assert.ok(v, `${who}: volume ${m.name} exists`);
          if (v.secret || v.configMap || v.persistentVolumeClaim?.readOnly || v.hostPath) assert.equal(m.readOnly, true, `${who}: ${m.name} mounted read-only`);
        }
      }
      if (name.startsWith('propeller-')) assert.equal(pod.runAsUser, PROPELLER_UID, `${name}: the images' user`);
    }
  });

  it('images: exact versions (no latest, no floating tags), and the Dockerfiles run as the numeric user the pods expect', () => {
    const images = workloads(manifests()).flatMap((m) => containersOf(m.doc.spec.template.spec).map((c) => c.image as string));
    const compose = parse(readFileSync(join(ROOT, 'deploy/docker/compose.yaml'), 'utf8'), { merge: true }) as Obj;
    images.push(...Object.values(compose.services as Record<string, Obj>).map((s) => s.image as string));
    for (const dockerfile of ['coordinator.Dockerfile', 'worker-cuda.Dockerfile']) {
      const text = readFileSync(join(ROOT, 'deploy/docker', dockerfile), 'utf8');
      images.push(...[...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!));
      const users = [...text.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
      assert.deepEqual(users, [`${PROPELLER_UID}:${PROPELLER_UID}`], `${dockerfile}: USER by number (runAsNonRoot can only check a numeric user)`);
    }
    for (const image of images) {
      assert.doesNotMatch(image, /:latest\b/, image);
      assert.match(image, /:v?\d+\.\d+\.\d+[-\w.]*(@sha256:[0-9a-f]{64})?$/, `${image}: an exact version tag`);
    }
  });

  it('Secrets hold only marked placeholders, and every file an argument names is a key of a mounted Secret', () => {
    const all = manifests();
    const secrets = all.filter((m) => m.doc.kind === 'Secret').map((m) => m.doc);
    for (const s of secrets) {
      assert.equal(s.data, undefined, `${s.metadata.name}: placeholders in stringData, readable`);
      for (const [k, v] of Object.entries(s.stringData as Record<string, string>)) assert.match(v, /^REPLACE-ME: /, `${s.metadata.name}/${k} is a marked placeholder`);
    }
    let files = 0;
    for (const { doc } of workloads(all).filter((m) => m.doc.metadata.name.startsWith('propeller-'))) {
      const spec = doc.spec.template.spec;
      for (const c of spec.containers) {
        for (const arg of c.args as string[]) {
          const path = /^--[\w-]+=(\/etc\/propeller\/.+)$/.exec(arg)?.[1];
          if (!path) continue;
          const mount = c.volumeMounts.find((m: Obj) => path.startsWith(`${m.mountPath}/`));
          assert.ok(mount, `${arg}: mounted`);
          const secretName = spec.volumes.find((v: Obj) => v.name === mount.name)?.secret?.secretName;
          const secret = secrets.find((s) => s.metadata.name === secretName);
          assert.ok(secret, `${arg}: from Secret ${secretName}`);
          assert.ok(path.slice(mount.mountPath.length + 1) in secret.stringData, `${arg}: key of ${secretName}`);
          files++;
        }
      }
    }
    // API TLS (2), tokens (1) and client TLS to workers (3) on the coordinators; mTLS (3) on the workers.
    assert.equal(files, 9);
  });

  it('network policies: workers take gRPC from coordinators only and metrics from Prometheus only; NATS clients only from Propeller pods', () => {
    const all = manifests();
    const policies = all.filter((m) => m.doc.kind === 'NetworkPolicy').map((m) => m.doc);
    const pods = workloads(all).map((m) => m.doc);
    for (const p of policies) {
      const target = pods.find((w) => matches(p.spec.podSelector.matchLabels, w.spec.template.metadata.labels));
      assert.ok(target, `${p.metadata.name} selects a workload`);
      const ports = containersOf(target.spec.template.spec).flatMap((c) => (c.ports ?? []).map((x: Obj) => x.containerPort));
      for (const rule of p.spec.ingress) for (const port of rule.ports) assert.ok(ports.includes(port.port), `${p.metadata.name}: port ${port.port} is served`);
    }
    // Every workload is covered by a policy.
    for (const w of pods) assert.ok(policies.some((p) => matches(p.spec.podSelector.matchLabels, w.spec.template.metadata.labels)), `${w.metadata.name} has a policy`);
    const fromOf = (name: string, port: number) => find(all, 'NetworkPolicy', name).spec.ingress.find((r: Obj) => r.ports.some((x: Obj) => x.port === port))?.from;
    const prometheus = fromOf('propeller-worker', 9465);
    assert.deepEqual(fromOf('propeller-worker', 7401), [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'propeller-coordinator' } } }]);
    assert.equal(prometheus.length, 1);
    assert.ok(prometheus[0].namespaceSelector && prometheus[0].podSelector, 'Prometheus: by namespace and pod');
    assert.deepEqual(fromOf('propeller-coordinator', 9464), prometheus);
    assert.deepEqual(fromOf('dcgm-exporter', 9400), prometheus);
    assert.deepEqual(fromOf('nats', 7777), prometheus);
    assert.deepEqual(fromOf('nats', 4222), [{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'propeller' } } }]);
    assert.deepEqual(fromOf('nats', 6222), [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'nats' } } }]);
    // The plaintext health ports (statuses only) stay open for the kubelet.
    assert.equal(fromOf('propeller-worker', 7481), undefined);
    assert.equal(fromOf('propeller-coordinator', 7480), undefined);
  });

  it('NATS: three JetStream servers routed to each other, a disruption budget keeping a quorum, an exporter beside each; coordinators replicate on three', () => {
    const all = manifests();
    const nats = find(all, 'StatefulSet', 'nats');
    assert.equal(nats.spec.replicas, 3);
    const conf = find(all, 'ConfigMap', 'nats-config').data['nats.conf'] as string;
    const headless = find(all, 'Service', nats.spec.serviceName);
    assert.equal(headless.spec.clusterIP, 'None');
    assert.equal(headless.spec.publishNotReadyAddresses, true, 'routes resolve before the servers are ready');
    for (let i = 0; i < 3; i++) assert.ok(conf.includes(`nats://nats-${i}.${nats.spec.serviceName}.propeller.svc.cluster.local:6222`), `route to nats-${i}`);
    assert.match(conf, /server_name: \$SERVER_NAME/);
    assert.match(conf, /jetstream \{/);
    const pdb = find(all, 'PodDisruptionBudget', 'nats');
    assert.equal(pdb.spec.minAvailable, 2);
    assert.ok(matches(pdb.spec.selector.matchLabels, nats.spec.template.metadata.labels));
    const exporter = nats.spec.template.spec.containers.find((c: Obj) => c.name === 'exporter');
    assert.ok(exporter.args.includes('http://localhost:8222') && exporter.args.includes('-jsz=all'));
    const coordinator = find(all, 'Deployment', 'propeller-coordinator').spec.template.spec.containers[0];
    assert.ok(coordinator.args.includes('--nats-replicas=3'));
  });

  it('workers scale with KEDA on a metric the coordinators export, scraped under the job name the query names', () => {
    const all = manifests();
    const scaled = find(all, 'ScaledObject', 'propeller-worker');
    const sts = find(all, 'StatefulSet', scaled.spec.scaleTargetRef.name);
    assert.equal(scaled.spec.scaleTargetRef.kind, sts.kind);
    assert.equal(sts.spec.replicas, undefined, 'KEDA owns the replica count');
    const metrics = new CoordinatorMetrics().registry;
    const names = scaled.spec.triggers.map((trigger: Obj) => {
      assert.equal(trigger.type, 'prometheus');
      const metric = /\((propeller_\w+)\{job="([\w-]+)"/.exec(trigger.metadata.query);
      assert.ok(metric, trigger.metadata.query);
      assert.ok(metrics.getSingleMetric(metric[1]!), `the coordinator exports ${metric[1]}`);
      find(all, 'ServiceMonitor', metric[2]!);
      assert.ok(Number(trigger.metadata.threshold) > 0);
      return metric[1];
    });
    assert.deepEqual(names, ['propeller_jobs', 'propeller_dispatch_backlog_items']);
    assert.ok(scaled.spec.minReplicaCount >= 1 && scaled.spec.maxReplicaCount > scaled.spec.minReplicaCount);
  });

  it('the DCGM exporter runs on every GPU node with pod mapping, and counts every DCGM field the GPU dashboard reads', () => {
    const all = manifests();
    const ds = find(all, 'DaemonSet', DCGM_JOB);
    const spec = ds.spec.template.spec;
    const worker = find(all, 'StatefulSet', 'propeller-worker').spec.template.spec;
    assert.deepEqual(spec.nodeSelector, worker.nodeSelector);
    assert.deepEqual(spec.tolerations, worker.tolerations);
    const c = spec.containers[0];
    const env = Object.fromEntries(c.env.map((e: Obj) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]));
    assert.equal(env.DCGM_EXPORTER_KUBERNETES, 'true');
    assert.equal(env.NODE_NAME, 'spec.nodeName');
    assert.equal(c.resources.limits?.['nvidia.com/gpu'], undefined, 'claims no GPU');
    assert.ok(c.volumeMounts.some((m: Obj) => m.mountPath === '/var/lib/kubelet/pod-resources'));
    const counters = find(all, 'ConfigMap', 'dcgm-exporter-counters').data['counters.csv'] as string;
    const csvFile = c.args[c.args.indexOf('-f') + 1] as string;
    assert.ok(csvFile.endsWith('/counters.csv') && c.volumeMounts.some((m: Obj) => csvFile.startsWith(m.mountPath)));
    const counted = new Set([...counters.matchAll(/^\s*(DCGM_FI_\w+),/gm)].map((m) => m[1]));
    const read = new Set(dashboardQueries(GPU_DASHBOARD).flatMap(({ target }) => [...target.expr.matchAll(/DCGM_FI_\w+/g)].map((m) => m[0])));
    assert.ok(read.size >= 8);
    for (const f of read) assert.ok(counted.has(f), `the exporter counts ${f}`);
    assert.equal(find(all, 'ServiceMonitor', DCGM_JOB).spec.endpoints[0].honorLabels, true, "the exporter's pod labels are kept");
  });
});
