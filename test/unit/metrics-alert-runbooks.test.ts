import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from '../../deploy/generate.ts';
import { ALERTS, RUNBOOK_DIR } from '../../deploy/prometheus/alerts.ts';

interface Rule {
  alert: string;
  annotations: Record<string, string>;
}

/** The rules of a generated rule file (the Prometheus one, or the PrometheusRule's spec). */
function rules(path: string, spec = false): Rule[] {
  const doc = parse(readFileSync(join(ROOT, path), 'utf8')) as { groups: { rules: Rule[] }[]; spec: { groups: { rules: Rule[] }[] } };
  return (spec ? doc.spec : doc).groups.flatMap((g) => g.rules);
}

describe('alerts - every alert links a runbook that exists and says what to do', () => {
  it('every rule of both generated files carries runbook_url docs/runbooks/<alert>.md', () => {
    for (const [path, spec] of [['deploy/prometheus/alerts.yml', false], ['deploy/kubernetes/prometheus-rules.yaml', true]] as const) {
      const found = rules(path, spec);
      assert.deepEqual(found.map((r) => r.alert).sort(), ALERTS.map((a) => a.alert).sort(), path);
      for (const r of found) assert.equal(r.annotations.runbook_url, `${RUNBOOK_DIR}/${r.alert}.md`, `${path}: ${r.alert}`);
    }
  });

  it('each runbook names its alert and has what it means, how to confirm it (a query and a command) and what to do', () => {
    for (const a of ALERTS) {
      const path = join(ROOT, RUNBOOK_DIR, `${a.alert}.md`);
      assert.ok(existsSync(path), `${path} exists`);
      const text = readFileSync(path, 'utf8');
      assert.match(text, new RegExp(`^# ${a.alert}\\n`), a.alert);
      for (const section of ['## What it means', '## How to confirm', '## What to do']) assert.ok(text.includes(section), `${a.alert}: ${section}`);
      assert.match(text, /```promql\n.+\n/, `${a.alert}: a query to confirm it`);
      assert.match(text, /```text\n.+\n/, `${a.alert}: a command to confirm it`);
      assert.ok(text.includes(`\`${a.signal} ${a.condition}\``), `${a.alert}: the runbook quotes the rule's expression`);
    }
  });

  it('there is no runbook without an alert', () => {
    const alerts = new Set(ALERTS.map((a) => `${a.alert}.md`));
    assert.deepEqual(readdirSync(join(ROOT, RUNBOOK_DIR)).filter((f) => !alerts.has(f)), []);
  });
});
