// Validates deploy/ with real schemas and a real PromQL parser.
//
//   node validate.mjs schemas                 generate the JSON Schemas (cached)
//   node validate.mjs k8s FILE...             every YAML document, strictly
//   node validate.mjs dashboard FILE          the Grafana dashboard
//   node validate.mjs rules FILE [TESTS]      a rules file (and that TESTS covers each alert)
//   node validate.mjs copies DEPLOY_DIR       generated k8s copies equal their sources
//   node validate.mjs policy DAEMONSET        what the DaemonSet grants
//   node validate.mjs config CONFIGMAP        print the ConfigMap's config.yaml
//   node validate.mjs kustomization DIR       kustomization.yaml lists every manifest
//   node validate.mjs queries FILE VARS_JSON  print the dashboard's queries with variables filled in
//
// The tools come from tests/deploy/package.json, installed into
// $L2TP_DEPLOY_TOOLS (default <repo>/.tools/deploy) by tests/deploy/install-tools.sh.
// Schemas are generated with ts-json-schema-generator from the TypeScript types
// of kubernetes-types@1.30.0, @kubernetes-models/prometheus-operator@5.0.1 and
// @grafana/schema, then checked with ajv in strict mode: every object rejects
// properties its type does not declare.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const TOOLS = process.env.L2TP_DEPLOY_TOOLS || path.join(ROOT, '.tools/deploy');
if (!fs.existsSync(path.join(TOOLS, 'node_modules/ajv'))) {
  console.error(`validate: tools missing in ${TOOLS}; run tests/deploy/install-tools.sh`);
  process.exit(2);
}
const require = createRequire(path.join(TOOLS, 'package.json'));
const Ajv = require('ajv');
const YAML = require('yaml');
const { parser: promqlParser } = require('@prometheus-io/lezer-promql');
const SCHEMAS = path.join(TOOLS, 'schemas');

// apiVersion/kind -> [TypeScript file under node_modules, type name]
const K8S_TYPES = {
  'v1/Namespace': ['kubernetes-types/core/v1.d.ts', 'Namespace'],
  'v1/ConfigMap': ['kubernetes-types/core/v1.d.ts', 'ConfigMap'],
  'v1/Service': ['kubernetes-types/core/v1.d.ts', 'Service'],
  'v1/ServiceAccount': ['kubernetes-types/core/v1.d.ts', 'ServiceAccount'],
  'apps/v1/DaemonSet': ['kubernetes-types/apps/v1.d.ts', 'DaemonSet'],
  'monitoring.coreos.com/v1/ServiceMonitor':
    ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor.d.ts', 'IServiceMonitor'],
  'monitoring.coreos.com/v1/PrometheusRule':
    ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule.d.ts', 'IPrometheusRule'],
  'kustomize.config.k8s.io/v1beta1/Kustomization': null, // checked by kustomization_test.sh
};
const GRAFANA_SRC = path.join(HERE, 'schema/grafana-dashboard.ts');

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exitCode = 1;
}

function generate(tsFile, type, out, extraArgs = []) {
  const bin = path.join(TOOLS, 'node_modules/.bin/ts-json-schema-generator');
  // Tests may run in parallel: each writes its own temporary file and renames it.
  const tmp = `${out}.${process.pid}.tmp`;
  execFileSync(bin, ['--no-type-check', '--path', tsFile, '--type', type, '-o', tmp, ...extraArgs], {
    cwd: TOOLS, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const schema = JSON.parse(fs.readFileSync(tmp, 'utf8'));
  // Kubernetes accepts a Quantity as a string ("100m", "64Mi") or a number (1);
  // kubernetes-types declares it as string only.
  if (schema.definitions?.Quantity) {
    const { description } = schema.definitions.Quantity;
    schema.definitions.Quantity = { description, type: ['string', 'number'] };
  }
  // Unions of panel types: let ajv pick the branch by "type" (a discriminator),
  // so an error names the panel's own unknown field instead of every branch's.
  const discriminate = (o) => {
    if (Array.isArray(o)) { o.forEach(discriminate); return; }
    if (!o || typeof o !== 'object') return;
    if (Array.isArray(o.anyOf) && o.anyOf.length > 1 &&
        o.anyOf.every((b) => b.type === 'object' && b.properties?.type?.const !== undefined && b.required?.includes('type'))) {
      o.oneOf = o.anyOf;
      delete o.anyOf;
      o.discriminator = { propertyName: 'type' };
      o.type = 'object';
    }
    Object.values(o).forEach(discriminate);
  };
  discriminate(schema);
  fs.writeFileSync(tmp, JSON.stringify(schema));
  fs.renameSync(tmp, out);
}

// Generates every schema once; regenerates when the lockfile or the Grafana
// overlay type is newer than the cache.
function ensureSchemas() {
  fs.mkdirSync(SCHEMAS, { recursive: true });
  const stamp = path.join(SCHEMAS, '.stamp');
  const inputs = [path.join(TOOLS, 'package-lock.json'), GRAFANA_SRC, fileURLToPath(import.meta.url)];
  const newest = Math.max(...inputs.map((f) => fs.statSync(f).mtimeMs));
  if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= newest) return;
  for (const [key, spec] of Object.entries(K8S_TYPES)) {
    if (!spec) continue;
    generate(path.join(TOOLS, 'node_modules', spec[0]), spec[1], path.join(SCHEMAS, key.replaceAll('/', '_') + '.json'));
  }
  // The overlay imports @grafana/schema: it must sit beside node_modules to resolve it.
  const src = path.join(TOOLS, 'src');
  fs.mkdirSync(src, { recursive: true });
  const srcFile = path.join(src, `grafana-dashboard-${process.pid}.ts`);
  fs.copyFileSync(GRAFANA_SRC, srcFile);
  try {
    // --expose none inlines every type: the two panel plugins both name theirs "Options".
    generate(srcFile, 'L2tpDashboard', path.join(SCHEMAS, 'grafana-dashboard.json'), ['--expose', 'none']);
  } finally {
    fs.rmSync(srcFile, { force: true });
  }
  fs.writeFileSync(stamp, new Date().toISOString() + '\n');
}

function ajv() {
  return new Ajv({ strict: true, allErrors: true, allowUnionTypes: true, discriminator: true });
}

function formatErrors(errors) {
  // A union (anyOf) reports every branch's complaint; an unknown field is
  // the most telling, so those come first.
  const sorted = [...errors].sort((a, b) => (b.keyword === 'additionalProperties') - (a.keyword === 'additionalProperties'));
  return sorted.slice(0, 20).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (unknown field "${e.params.additionalProperty}")` : '';
    return `  ${e.instancePath || '/'}: ${e.message}${extra}`;
  }).join('\n');
}

const validators = new Map();
function validatorFor(key) {
  if (!validators.has(key)) {
    const file = path.join(SCHEMAS, key.replaceAll('/', '_') + '.json');
    validators.set(key, ajv().compile(JSON.parse(fs.readFileSync(file, 'utf8'))));
  }
  return validators.get(key);
}

function checkK8s(files) {
  ensureSchemas();
  let count = 0;
  for (const file of files) {
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'), { strict: true, uniqueKeys: true });
    for (const doc of docs) {
      if (doc.errors.length) { fail(`${file}: YAML: ${doc.errors.map((e) => e.message).join('; ')}`); continue; }
      const obj = doc.toJS();
      if (obj === null) continue;
      const key = `${obj.apiVersion}/${obj.kind}`;
      const where = `${file}: ${obj.kind} ${obj.metadata?.name ?? ''}`;
      if (!(key in K8S_TYPES)) { fail(`${where}: no schema for ${key}`); continue; }
      if (!K8S_TYPES[key]) continue;
      const validate = validatorFor(key);
      if (!validate(obj)) { fail(`${where} does not match the ${key} schema:\n${formatErrors(validate.errors)}`); continue; }
      count++;
      console.log(`ok - ${where} matches ${key}`);
    }
  }
  if (count === 0) fail('no Kubernetes object validated');
}

// The metric names the agent exports (the documented set, tests/deploy/metrics.txt).
function knownMetrics() {
  const names = new Set();
  for (const line of fs.readFileSync(path.join(HERE, 'metrics.txt'), 'utf8').split('\n')) {
    const [name, type] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!name) continue;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  names.add('up');
  return names;
}

// Parses PromQL; returns the metric names it selects, or throws with the error position.
export function parsePromQL(expr) {
  const tree = promqlParser.parse(expr);
  const metrics = [];
  let error = null;
  tree.iterate({
    enter(node) {
      if (node.type.isError && error === null) error = node.from;
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) metrics.push(expr.slice(id.from, id.to));
      }
    },
  });
  if (error !== null) throw new Error(`PromQL syntax error at offset ${error}: ${expr.slice(0, error)} <HERE> ${expr.slice(error)}`);
  if (tree.length !== expr.length) throw new Error('PromQL not fully parsed');
  return metrics;
}

// Grafana's variables in a query: $__rate_interval and friends, $var, ${var}, [[var]].
export function fillVariables(expr, vars) {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (m, a, b, c) => {
    const name = a || b || c;
    if (!(name in vars)) throw new Error(`unknown variable ${m} in: ${expr}`);
    return vars[name];
  });
}

const STATIC_VARS = { __rate_interval: '5m', __interval: '1m', __range: '1h', node: '.*', instance: '.*', tunnel: '.*' };

function allPanels(dash) {
  const out = [];
  for (const p of dash.panels) {
    out.push(p);
    if (p.type === 'row') out.push(...p.panels);
  }
  return out;
}

function checkDashboard(file) {
  ensureSchemas();
  const text = fs.readFileSync(file, 'utf8');
  const dash = JSON.parse(text);
  const validate = ajv().compile(JSON.parse(fs.readFileSync(path.join(SCHEMAS, 'grafana-dashboard.json'), 'utf8')));
  if (!validate(dash)) { fail(`${file} does not match the Grafana dashboard schema:\n${formatErrors(validate.errors)}`); return; }
  console.log(`ok - ${file} matches @grafana/schema Dashboard (strict: timeseries and stat panels, Prometheus targets)`);

  // Template variables: a datasource variable and the filters every query uses.
  const vars = Object.fromEntries((dash.templating?.list ?? []).map((v) => [v.name, v]));
  if (vars.datasource?.type !== 'datasource' || vars.datasource.query !== 'prometheus') fail('no "datasource" variable of type datasource for prometheus');
  for (const v of ['node', 'instance', 'tunnel']) {
    if (vars[v]?.type !== 'query') { fail(`no query variable "${v}"`); continue; }
    if (!vars[v].includeAll || vars[v].allValue !== '.*') fail(`variable ${v}: needs includeAll with allValue ".*" (series without the label must match "All")`);
  }
  // No data source is named by UID: everything refers to ${datasource}.
  const builtin = (ds) => ds?.type === 'grafana' && ds?.uid === '-- Grafana --';
  const walk = (o, p) => {
    if (Array.isArray(o)) o.forEach((x, i) => walk(x, `${p}[${i}]`));
    else if (o && typeof o === 'object') {
      for (const [k, v] of Object.entries(o)) {
        if (k === 'datasource' && v && typeof v === 'object' && !builtin(v) && v.uid !== '${datasource}') fail(`${p}.datasource has a hard-coded uid ${JSON.stringify(v.uid)}`);
        walk(v, `${p}.${k}`);
      }
    }
  };
  walk(dash, '$');
  if (/"uid":\s*"(?!\$\{datasource\}|-- Grafana --|l2tp-agent")/.test(text)) fail('a uid other than ${datasource}, the built-in annotations and the dashboard\'s own');

  // Panels: unique ids, a grid position each, every query parses and selects known metrics.
  const known = knownMetrics();
  const ids = new Set();
  const used = new Set();
  let queries = 0;
  for (const p of allPanels(dash)) {
    if (ids.has(p.id)) fail(`panel id ${p.id} used twice`);
    ids.add(p.id);
    if (!p.gridPos) fail(`panel "${p.title}" has no gridPos`);
    if (p.type === 'row') continue;
    if (!p.targets.length) fail(`panel "${p.title}" has no query`);
    for (const t of p.targets) {
      queries++;
      let metrics;
      try {
        metrics = parsePromQL(fillVariables(t.expr, STATIC_VARS));
      } catch (e) { fail(`panel "${p.title}" ${t.refId}: ${e.message}`); continue; }
      if (!metrics.length) fail(`panel "${p.title}" ${t.refId}: selects no metric`);
      for (const m of metrics) {
        used.add(m.replace(/_(bucket|sum|count)$/, ''));
        if (!known.has(m)) fail(`panel "${p.title}" ${t.refId}: unknown metric ${m}`);
      }
      for (const f of ['node', 'instance']) if (!t.expr.includes(`${f}=~"$${f}"`)) fail(`panel "${p.title}" ${t.refId}: does not filter on $${f}`);
      if (/l2tp_(tunnel|session)_/.test(t.expr) && !t.expr.includes('tunnel=~"$tunnel"')) fail(`panel "${p.title}" ${t.refId}: does not filter on $tunnel`);
    }
  }
  // The grid: 24 columns, no two panels on the same cells.
  const placed = allPanels(dash).filter((p) => p.gridPos);
  for (const [i, a] of placed.entries()) {
    const g = a.gridPos;
    if (g.x < 0 || g.w < 1 || g.x + g.w > 24 || g.h < 1) fail(`panel "${a.title}": gridPos outside the 24-column grid`);
    for (const b of placed.slice(i + 1)) {
      const h = b.gridPos;
      if (g.x < h.x + h.w && h.x < g.x + g.w && g.y < h.y + h.h && h.y < g.y + g.h) fail(`panels "${a.title}" and "${b.title}" overlap`);
    }
  }
  for (const v of ['node', 'instance', 'tunnel']) {
    try { parsePromQL(fillVariables(vars[v].query.query.replace(/^label_values\((.*), *\w+\)$/, '$1'), STATIC_VARS)); }
    catch (e) { fail(`variable ${v}: ${e.message}`); }
  }
  console.log(`ok - ${queries} panel queries parse (lezer-promql) and select known metrics`);
  // Every metric of the documented set has a panel.
  for (const m of known) {
    if (m === 'up' || /_(bucket|sum|count)$/.test(m) && known.has(m.replace(/_(bucket|sum|count)$/, ''))) continue;
    if (!used.has(m)) fail(`metric ${m} is on no panel`);
  }
  if (!process.exitCode) console.log('ok - every documented metric is on a panel');
}

function checkRules(file, testFile) {
  const doc = YAML.parse(fs.readFileSync(file, 'utf8'));
  const fires = new Set();
  const quiet = new Set();
  if (testFile) {
    for (const t of YAML.parse(fs.readFileSync(testFile, 'utf8')).tests) {
      for (const e of t.alert_rule_test ?? []) (e.exp_alerts?.length ? fires : quiet).add(e.alertname);
    }
  }
  const known = knownMetrics();
  let n = 0;
  for (const g of doc.groups) {
    for (const r of g.rules) {
      n++;
      let metrics;
      try { metrics = parsePromQL(r.expr); } catch (e) { fail(`${r.alert ?? r.record}: ${e.message}`); continue; }
      for (const m of metrics) if (!known.has(m)) fail(`${r.alert ?? r.record}: unknown metric ${m}`);
      if (r.alert) {
        if (!r.for) fail(`${r.alert}: no "for"`);
        if (!['critical', 'warning', 'info'].includes(r.labels?.severity)) fail(`${r.alert}: severity must be critical, warning or info`);
        if (!r.annotations?.summary || !r.annotations?.description) fail(`${r.alert}: needs summary and description annotations`);
        if (testFile && !fires.has(r.alert)) fail(`${r.alert}: ${testFile} has no case where it fires`);
        if (testFile && !quiet.has(r.alert)) fail(`${r.alert}: ${testFile} has no case where it stays quiet`);
      }
    }
  }
  if (!process.exitCode) console.log(`ok - ${n} rules in ${file}: PromQL parses, known metrics, for/severity/summary/description${testFile ? ', each alert tested firing and quiet' : ''}`);
}

function yamlDocs(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS()).filter((d) => d !== null);
}

function sameJSON(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

// The copies in deploy/k8s hold the same content as their sources.
function checkCopies(dir) {
  const [rule] = yamlDocs(path.join(dir, 'k8s/prometheusrule.yaml'));
  const rules = YAML.parse(fs.readFileSync(path.join(dir, 'prometheus/l2tp-agent-rules.yaml'), 'utf8'));
  if (!sameJSON(rule.spec, rules)) fail('k8s/prometheusrule.yaml spec differs from prometheus/l2tp-agent-rules.yaml');
  else console.log('ok - PrometheusRule spec equals prometheus/l2tp-agent-rules.yaml');
  const [cm] = yamlDocs(path.join(dir, 'k8s/grafana-dashboard-configmap.yaml'));
  const dash = JSON.parse(fs.readFileSync(path.join(dir, 'grafana/l2tp-agent.json'), 'utf8'));
  if (cm.metadata?.labels?.grafana_dashboard !== '1') fail('dashboard ConfigMap lacks label grafana_dashboard: "1"');
  if (!sameJSON(JSON.parse(cm.data['l2tp-agent.json']), dash)) fail('dashboard ConfigMap differs from grafana/l2tp-agent.json');
  else console.log('ok - dashboard ConfigMap data equals grafana/l2tp-agent.json, label grafana_dashboard: "1"');
}

// What the DaemonSet must and must not grant.
function checkPolicy(file) {
  const ds = yamlDocs(file).find((d) => d.kind === 'DaemonSet');
  const spec = ds.spec.template.spec;
  const expect = (cond, what) => { if (cond) console.log(`ok - DaemonSet: ${what}`); else fail(`DaemonSet: ${what}`); };
  expect(spec.hostNetwork === true, 'hostNetwork');
  expect(spec.tolerations?.some((t) => t.operator === 'Exists' && !t.key && !t.effect), 'tolerates every taint');
  expect(ds.spec.updateStrategy?.type === 'RollingUpdate' && ds.spec.updateStrategy.rollingUpdate?.maxUnavailable === 1, 'rolling update, maxUnavailable 1');
  const [c] = spec.containers;
  const sc = c.securityContext ?? {};
  expect(spec.containers.length === 1 && sc.privileged === false && sc.allowPrivilegeEscalation === false, 'not privileged, no privilege escalation');
  expect(sameJSON(sc.capabilities?.drop, ['ALL']) && sameJSON([...(sc.capabilities?.add ?? [])].sort(), ['BPF', 'NET_ADMIN', 'NET_RAW']), 'capabilities: drop ALL, add BPF, NET_ADMIN and NET_RAW only');
  const mounts = Object.fromEntries(c.volumeMounts.map((m) => [m.mountPath, m]));
  const vols = Object.fromEntries(spec.volumes.map((v) => [v.name, v]));
  const hostPath = (mountPath) => vols[mounts[mountPath]?.name]?.hostPath;
  expect(hostPath('/lib/modules')?.path === '/lib/modules' && mounts['/lib/modules'].readOnly === true, '/lib/modules read-only from the host');
  expect(hostPath('/dev/net/tun')?.type === 'CharDevice', '/dev/net/tun from the host (CharDevice)');
  expect(hostPath('/var/lib/l2tp-agent')?.path === '/var/lib/l2tp-agent', 'state dir /var/lib/l2tp-agent on the host');
  expect(hostPath('/run/l2tp-agent')?.path === '/run/l2tp-agent', 'socket dir /run/l2tp-agent on the host');
  expect(vols[mounts['/etc/l2tp-agent']?.name]?.configMap?.name === 'l2tp-agent-config', 'config from ConfigMap l2tp-agent-config');
  const args = c.args ?? [];
  for (const a of ['--datapath=auto', '--config=/etc/l2tp-agent/config.yaml', '--metrics-addr=0.0.0.0:9810',
    '--socket=/run/l2tp-agent/agent.sock', '--state-dir=/var/lib/l2tp-agent']) expect(args.includes(a), `arg ${a}`);
  const port = c.ports?.find((p) => p.name === 'metrics');
  expect(port?.containerPort === 9810, 'metrics port 9810');
  expect(c.livenessProbe?.httpGet?.path === '/healthz' && c.livenessProbe.httpGet.port === 'metrics', 'liveness /healthz on the metrics port');
  expect(c.readinessProbe?.httpGet?.path === '/readyz' && c.readinessProbe.httpGet.port === 'metrics', 'readiness /readyz on the metrics port');
  expect(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory && c.resources?.limits?.cpu, 'resource requests and limits');
}

// The config file inside the ConfigMap, to stdout.
function printConfig(file) {
  const cm = yamlDocs(file).find((d) => d.kind === 'ConfigMap');
  process.stdout.write(cm.data['config.yaml']);
}

// kustomization.yaml lists exactly the manifests in its directory.
function checkKustomization(dir) {
  const k = YAML.parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
  const listed = [...k.resources].sort();
  for (const f of files) if (!listed.includes(f)) fail(`kustomization.yaml does not list ${f}`);
  for (const f of listed) if (!files.includes(f)) fail(`kustomization.yaml lists ${f}, which does not exist`);
  if (!process.exitCode) console.log(`ok - kustomization.yaml lists every manifest (${files.length})`);
}

function printQueries(file, varsJson) {
  const dash = JSON.parse(fs.readFileSync(file, 'utf8'));
  const vars = JSON.parse(varsJson);
  const out = [];
  for (const p of allPanels(dash)) {
    if (p.type === 'row') continue;
    for (const t of p.targets) out.push({ panel: p.title, refId: t.refId, expr: fillVariables(t.expr, vars) });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

const [cmd, ...args] = process.argv.slice(2);
switch (cmd) {
  case 'schemas': ensureSchemas(); console.log(`schemas in ${SCHEMAS}`); break;
  case 'k8s': checkK8s(args); break;
  case 'dashboard': checkDashboard(args[0]); break;
  case 'rules': checkRules(args[0], args[1]); break;
  case 'copies': checkCopies(args[0]); break;
  case 'policy': checkPolicy(args[0]); break;
  case 'config': printConfig(args[0]); break;
  case 'kustomization': checkKustomization(args[0]); break;
  case 'queries': printQueries(args[0], args[1]); break;
  default: console.error('usage: validate.mjs schemas|k8s FILE...|dashboard FILE|rules FILE|queries FILE VARS_JSON'); process.exit(2);
}
