/**
 * The Kubernetes manifests validated offline against the Kubernetes API
 * schemas (kubernetes-models; prometheus-operator's for ServiceMonitor and
 * PrometheusRule, KEDA's for ScaledObject), plus what the schemas cannot
 * say: GPU limits, probes, the disruption budget, and that Services and
 * ServiceMonitors select the pods and ports that exist. The hardening
 * (security contexts, Secrets, network policies, NATS cluster, autoscaling,
 * pinned images) is in deploy-hardening.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MANIFEST_DIR as DIR, find, manifests, matches, modelOf, type Obj } from '../helpers/kubernetes-manifests.ts';

/** Keys a container may have (the schemas accept unknown keys; a typo would silently do nothing). */
const CONTAINER_KEYS = new Set(['name', 'image', 'args', 'command', 'env', 'ports', 'startupProbe', 'readinessProbe', 'livenessProbe', 'resources', 'volumeMounts', 'securityContext', 'imagePullPolicy', 'lifecycle']);

describe('deploy - Kubernetes manifests', () => {
  it('every manifest validates against its Kubernetes schema, and kustomization lists every file', async () => {
    const all = manifests();
    const kinds = all.map((m) => `${m.doc.kind}/${m.doc.metadata?.name}`).sort();
    assert.deepEqual(kinds, [
      'ConfigMap/dcgm-exporter-counters',
      'ConfigMap/nats-config',
      'ConfigMap/propeller-grafana-dashboards',
      'DaemonSet/dcgm-exporter',
      'Deployment/propeller-coordinator',
      'Namespace/propeller',
      'NetworkPolicy/dcgm-exporter',
      'NetworkPolicy/nats',
      'NetworkPolicy/propeller-coordinator',
      'NetworkPolicy/propeller-worker',
      'PersistentVolumeClaim/propeller-models',
      'PodDisruptionBudget/nats',
      'PodDisruptionBudget/propeller-coordinator',
      'PrometheusRule/propeller-alerts',
      'ScaledObject/propeller-worker',
      'Secret/propeller-api-tls',
      'Secret/propeller-coordinator-client-tls',
      'Secret/propeller-tokens',
      'Secret/propeller-worker-tls',
      'Service/dcgm-exporter',
      'Service/nats',
      'Service/nats-headless',
      'Service/propeller-coordinator',
      'Service/propeller-worker',
      'ServiceMonitor/dcgm-exporter',
      'ServiceMonitor/nats',
      'ServiceMonitor/propeller-coordinator',
      'ServiceMonitor/propeller-worker',
      'StatefulSet/nats',
      'StatefulSet/propeller-worker',
    ]);
    for (const { file, doc } of all) {
      const Model = await modelOf(doc.apiVersion, doc.kind);
      assert.doesNotThrow(() => new Model(doc).validate(), `${file}: ${doc.kind} ${doc.metadata?.name}`);
      if (doc.kind !== 'Namespace') assert.equal(doc.metadata.namespace, 'propeller', `${file}: ${doc.kind} ${doc.metadata.name} namespace`);
      for (const c of [...(doc.spec?.template?.spec?.containers ?? [])]) {
        for (const k of Object.keys(c)) assert.ok(CONTAINER_KEYS.has(k), `${file}: container ${c.name} has unknown key ${k}`);
      }
    }
    const kustomization = readFileSync(join(DIR, 'kustomization.yaml'), 'utf8');
    for (const f of new Set(all.map((m) => m.file))) assert.ok(kustomization.includes(`- ${f}`), `kustomization lists ${f}`);
  });

  it('the validator is real: broken manifests are rejected', async () => {
    const worker = structuredClone(find(manifests(), 'StatefulSet', 'propeller-worker'));
    worker.spec.template.spec.containers[0].readinessProbe.grpc.port = 'health-port';
    const StatefulSet = await modelOf('apps/v1', 'StatefulSet');
    assert.throws(() => new StatefulSet(worker).validate(), /grpc\/port must be integer/);
    const pdb = structuredClone(find(manifests(), 'PodDisruptionBudget', 'propeller-coordinator'));
    delete pdb.spec.selector;
    pdb.spec.minAvailable = { one: 1 };
    const Pdb = await modelOf('policy/v1', 'PodDisruptionBudget');
    assert.throws(() => new Pdb(pdb).validate());
    const sm = structuredClone(find(manifests(), 'ServiceMonitor', 'propeller-worker'));
    sm.spec.endpoints = 'metrics';
    const ServiceMonitor = await modelOf('monitoring.coreos.com/v1', 'ServiceMonitor');
    assert.throws(() => new ServiceMonitor(sm).validate(), /endpoints must be array/);
    const scaled = structuredClone(find(manifests(), 'ScaledObject', 'propeller-worker'));
    delete scaled.spec.scaleTargetRef.name;
    const ScaledObject = await modelOf('keda.sh/v1alpha1', 'ScaledObject');
    assert.throws(() => new ScaledObject(scaled).validate(), /name/);
  });

  it('coordinators: 2 replicas, a PodDisruptionBudget keeping one, gRPC health probes on the plaintext health port, metrics port', () => {
    const all = manifests();
    const dep = find(all, 'Deployment', 'propeller-coordinator');
    assert.equal(dep.spec.replicas, 2);
    const pdb = find(all, 'PodDisruptionBudget', 'propeller-coordinator');
    assert.equal(pdb.spec.minAvailable, 1);
    assert.ok(matches(pdb.spec.selector.matchLabels, dep.spec.template.metadata.labels), 'the PDB selects the coordinator pods');
    const c = dep.spec.template.spec.containers[0];
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) assert.equal(c[probe].grpc.port, 7480, probe);
    assert.ok(c.args.includes('--health-listen=0.0.0.0:7480'), 'the probed port is the health listener');
    assert.ok(c.args.includes('--metrics-listen=0.0.0.0:9464'));
    assert.ok(c.args.includes('--nats=nats://nats:4222'), 'replicas share jobs through JetStream');
  });

  it('workers: one GPU each, on GPU nodes only, gRPC health probes on the health port, announcing their DNS name through NATS', () => {
    const all = manifests();
    const sts = find(all, 'StatefulSet', 'propeller-worker');
    const spec = sts.spec.template.spec;
    assert.equal(spec.nodeSelector['nvidia.com/gpu.present'], 'true');
    assert.deepEqual(spec.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    const c = spec.containers[0];
    assert.equal(c.resources.limits['nvidia.com/gpu'], 1);
    assert.equal(c.resources.requests['nvidia.com/gpu'], 1);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) assert.equal(c[probe].grpc.port, 7481, probe);
    assert.ok(c.args.includes('--health-listen=0.0.0.0:7481'), 'the probed port is the health listener');
    assert.ok(c.args.includes('--device=cuda:0'));
    // The StatefulSet's per-pod DNS name (the headless Service), which the workers' certificate names.
    assert.ok(c.args.includes(`--advertise=$(POD_NAME).${sts.spec.serviceName}.propeller.svc.cluster.local:7401`));
    assert.equal(find(all, 'Service', sts.spec.serviceName).spec.publishNotReadyAddresses, true);
    assert.ok(c.env.some((e: Obj) => e.name === 'POD_NAME' && e.valueFrom.fieldRef.fieldPath === 'metadata.name'));
    assert.ok(c.args.includes('--metrics-listen=0.0.0.0:9465'));
    const claim = spec.volumes.find((v: Obj) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName;
    find(all, 'PersistentVolumeClaim', claim);
  });

  it('Services select existing pods and ports; ServiceMonitors select those Services by their metrics port', () => {
    const all = manifests();
    const pods = all.filter((m) => m.doc.spec?.template).map((m) => m.doc);
    for (const svc of all.filter((m) => m.doc.kind === 'Service').map((m) => m.doc)) {
      const target = pods.find((p) => matches(svc.spec.selector, p.spec.template.metadata.labels));
      assert.ok(target, `Service ${svc.metadata.name} selects pods`);
      const containerPorts = target.spec.template.spec.containers.flatMap((c: Obj) => c.ports.map((p: Obj) => p.name));
      for (const p of svc.spec.ports) assert.ok(containerPorts.includes(p.targetPort), `Service ${svc.metadata.name} port ${p.name} -> ${p.targetPort}`);
    }
    for (const sm of all.filter((m) => m.doc.kind === 'ServiceMonitor').map((m) => m.doc)) {
      const svc = all.find((m) => m.doc.kind === 'Service' && matches(sm.spec.selector.matchLabels, m.doc.metadata.labels))?.doc;
      assert.ok(svc, `ServiceMonitor ${sm.metadata.name} selects a Service`);
      // The job label Prometheus gives the targets is the Service name: the one the dashboards filter on.
      assert.equal(svc.metadata.name, sm.metadata.name);
      for (const ep of sm.spec.endpoints) assert.ok(svc.spec.ports.some((p: Obj) => p.name === ep.port), `${sm.metadata.name} endpoint port ${ep.port}`);
    }
    const nats = find(all, 'StatefulSet', 'nats');
    const conf = find(all, 'ConfigMap', 'nats-config').data['nats.conf'] as string;
    assert.match(conf, /jetstream \{/);
    assert.ok(nats.spec.volumeClaimTemplates.length === 1, 'JetStream keeps its store on a volume');
  });
});
