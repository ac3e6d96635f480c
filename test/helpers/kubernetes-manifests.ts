/**
 * The Kubernetes manifests of deploy/kubernetes, parsed, and their offline
 * schema models (kubernetes-models; prometheus-operator's and KEDA's for
 * their custom resources), for the deploy-* unit tests.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../../deploy/generate.ts';

/** deploy/kubernetes */
export const MANIFEST_DIR = join(ROOT, 'deploy/kubernetes');

// Loose shape for reading the parsed manifests.
export type Obj = Record<string, any>;

/** One document of one manifest file. */
export interface Manifest {
  file: string;
  doc: Obj;
}

/** Every document of every manifest file but kustomization.yaml, files in name order. */
export function manifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(MANIFEST_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
    for (const d of parseAllDocuments(readFileSync(join(MANIFEST_DIR, file), 'utf8'))) {
      assert.deepEqual(d.errors, [], `${file}: YAML errors`);
      const doc = d.toJS() as Obj | null;
      if (doc) out.push({ file, doc });
    }
  }
  return out;
}

/** Packages holding the models of custom resource groups. */
const CRD_PACKAGES: Record<string, string> = {
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'keda.sh': '@kubernetes-models/keda',
};

/** The kubernetes-models class of an apiVersion/kind. */
export async function modelOf(apiVersion: string, kind: string): Promise<new (data: Obj) => { validate(): void }> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const crd = CRD_PACKAGES[group!];
  const path = crd ? `${crd}/${group}/${version}/${kind}` : group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
  const mod = (await import(path)) as Obj;
  assert.ok(mod[kind], `no model for ${apiVersion} ${kind}`);
  return mod[kind];
}

/** The object of a kind and name; fails when there is none. */
export function find(all: Manifest[], kind: string, name: string): Obj {
  const m = all.find((x) => x.doc.kind === kind && x.doc.metadata?.name === name);
  assert.ok(m, `${kind} ${name} exists`);
  return m.doc;
}

/** Whether a matchLabels selector selects these labels. */
export const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Every workload with a pod template (Deployment, StatefulSet, DaemonSet). */
export const workloads = (all: Manifest[]): Manifest[] => all.filter((m) => m.doc.spec?.template?.spec);
