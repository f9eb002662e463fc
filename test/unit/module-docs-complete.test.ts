/**
 * The module reference says true and complete things: every module exported by src/modules/index.ts has a page;
 * every module documents its plan, its rollback and an example, and every prop has a doc comment; every example
 * builds a task of that module whose props pass the module's own validation; and every `@default` that names a value
 * is the value the module really applies: planning with the prop left out and with it set to the documented value
 * gives the same result, on a host where the files are absent and on one where they exist.
 */
import test from 'ava';
import { transformSync } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FactRequest, FileFact } from '../../src/facts/fact-request.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import type { ModuleReference, ModuleReferenceSet } from '../../src/help/module-reference.ts';
import * as modules from '../../src/modules/index.ts';
import * as rig from '../../src/index.ts';
import type { Module, Task, TaskContext } from '../../src/modules/module.ts';
import { renderModuleDocFiles } from '../../scripts/generate-module-docs.ts';
import { PROJECT_ROOT } from '../helpers/run-rig.ts';

// The reference as generated from the sources now (module-docs-fresh.test.ts checks the committed copy equals it).
const files = renderModuleDocFiles(PROJECT_ROOT);
const reference = JSON.parse(files.get('src/help/module-reference-data.json')!) as ModuleReferenceSet;

/** Every task factory src/modules/index.ts exports, by module name (flushHandlers() builds its task). */
function exportedModules(): Map<string, Module<unknown>> {
  const out = new Map<string, Module<unknown>>();
  for (const value of Object.values(modules)) {
    if (typeof value !== 'function') continue;
    const m = 'module' in value ? (value as { module: Module<unknown> }).module : value.length === 0 ? (value as () => Task).call(undefined).module : undefined;
    if (m) out.set(m.name, m);
  }
  return out;
}
const byName = exportedModules();

test('every module exported by src/modules/index.ts has a page, and every page a module', (t) => {
  t.deepEqual(reference.modules.map((m) => m.name).sort(), [...byName.keys()].sort());
  for (const m of reference.modules) t.true(files.has(`docs/modules/${m.name}.md`), m.name);
  // The pages say `import { factory } from 'rig'`.
  for (const m of reference.modules) t.is(typeof (rig as Record<string, unknown>)[m.factory], 'function', `${m.factory} is not exported by src/index.ts`);
});

test('every module documents what it does, its plan, its rollback and an example; every prop has a doc comment', (t) => {
  const missing: string[] = [];
  for (const m of reference.modules) {
    if (!m.summary) missing.push(`${m.source}: ${m.name}: its doc comment`);
    if (!m.plan) missing.push(`${m.source}: ${m.name}: @plan (what \`rig plan\` shows)`);
    if (!m.rollback) missing.push(`${m.source}: ${m.name}: @rollback (what \`rig rollback\` does)`);
    if (!m.examples.length) missing.push(`${m.source}: ${m.name}: @example`);
    for (const p of m.props) if (!p.doc) missing.push(`${m.source}: ${m.propsType}.${p.name}: a doc comment`);
    for (const ty of m.types) {
      if (!ty.doc) missing.push(`${ty.source}: ${ty.name}: a doc comment`);
      for (const p of ty.props ?? []) if (!p.doc) missing.push(`${ty.source}: ${ty.name}.${p.name}: a doc comment`);
    }
  }
  for (const p of reference.taskOptions) if (!p.doc) missing.push(`src/modules/module.ts: TaskOptions.${p.name}: a doc comment`);
  t.deepEqual([...new Set(missing)], [], 'write these doc comments, then run `npm run docs`');
});

/** An example's task: the TypeScript expression evaluated with every export of src/modules/index.ts in scope. */
function evaluateExample(source: string): Task {
  const js = transformSync(`(${source})`, { loader: 'ts' }).code.trim().replace(/;$/, '');
  const names = Object.keys(modules);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function(...names, `return ${js};`)(...names.map((n) => (modules as Record<string, unknown>)[n])) as Task;
}

test('every example builds a task of its module whose props pass the module\'s validation', (t) => {
  for (const m of reference.modules) {
    for (const example of m.examples) {
      const task = evaluateExample(example);
      t.is(task.module.name, m.name, example);
      t.deepEqual(task.module.validate(task.props), [], `${m.name} example: ${example}`);
    }
  }
});

// ---- documented defaults against behaviour ----

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** Plausible content for a file a module reads, by its path. */
function contentFor(path: string): Buffer {
  if (path === '/etc/passwd') return Buffer.from('root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n');
  if (path === '/etc/shadow') return Buffer.from('root:*:19000:0:99999:7:::\nalice:*:19000:0:99999:7:::\n');
  if (path === '/etc/group') return Buffer.from('root:x:0:\nsudo:x:27:\nalice:x:1000:\n');
  if (path === '/etc/gshadow') return Buffer.from('root:*::\nsudo:*::\nalice:!::\n');
  if (/\.(json|conf|conflist)$/.test(path)) return Buffer.from('{\n  "cniVersion": "0.3.1",\n  "name": "n",\n  "type": "bridge",\n  "ipam": { "subnet": "10.0.0.0/16" }\n}\n');
  if (/\.ya?ml$/.test(path)) return Buffer.from('apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    command:\n    - kube-apiserver\n    - --a=1\n');
  return Buffer.from('KUBELET_OPTS="--a=1"\n');
}

type Scenario = 'absent' | 'present';
/** Facts answering every request of the props: files absent, or present (root's, 0640, typical content). */
function factsFor(requests: readonly FactRequest[], scenario: Scenario): MemoryHostFacts {
  const files: Record<string, FileFact> = {};
  const commands: Record<string, { key: string; exitCode: number; stdout: string; stderr: string }> = {};
  const services: Record<string, { name: string; exists: boolean; running: boolean }> = {};
  const packages: Record<string, string | undefined> = {};
  const capabilities: Record<string, string> = {};
  for (const r of requests) {
    if (r.kind === 'file') {
      const isAccountDb = /^\/etc\/(passwd|shadow|group|gshadow)$/.test(r.path);
      if (scenario === 'absent' && !isAccountDb) files[r.path] = { exists: false };
      else {
        const content = contentFor(r.path);
        files[r.path] = { exists: true, type: 'file', mode: '0640', owner: 'root', group: 'root', uid: 0, gid: 0, content, sha256: sha(content), size: content.length };
      }
    } else if (r.kind === 'command') commands[r.key] = { key: r.key, exitCode: 1, stdout: '', stderr: '' };
    else if (r.kind === 'service') services[r.name] = { name: r.name, exists: true, running: scenario === 'present' };
    else if (r.kind === 'package') for (const n of r.names) packages[n] = scenario === 'present' ? '1.0' : undefined;
    else if (r.kind === 'capability') capabilities[r.path] = scenario === 'present' ? 'cap_net_raw=ep' : '';
  }
  return new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files, commands, services, packages, capabilities } as never);
}

/** The value a `@default` names, and on which scenarios it applies; undefined when it describes instead of naming. */
function documentedValue(text: string): { value: unknown; scenarios: readonly Scenario[] } | undefined {
  const literal = (s: string): unknown => (/^'[^']*'$/.test(s) ? s.slice(1, -1) : /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : s === 'true' ? true : s === 'false' ? false : undefined);
  const whole = literal(text.trim());
  if (whole !== undefined) return { value: whole, scenarios: ['absent', 'present'] };
  // "existing mode, else '0644'": the value for a path that does not exist yet.
  const fallback = /^existing \w+, else ('[^']*')$/.exec(text.trim());
  if (fallback) return { value: literal(fallback[1]!), scenarios: ['absent'] };
  return undefined;
}

/** What planning gives: the changes or no-op, or the error, as comparable text. */
function outcome(module: Module<unknown>, props: unknown, ctx: TaskContext, scenario: Scenario): { text: string; planned: boolean } {
  try {
    const facts = factsFor(module.facts(props, ctx), scenario);
    return { text: JSON.stringify(module.plan(props, facts, ctx)), planned: true };
  } catch (e) {
    return { text: `error: ${(e as Error).message}`, planned: false };
  }
}

/**
 * Props of the module's first example, planned in project `dir`: the PKI directory moved there (planning may create
 * a CA), its controller file (`src`) created there, and a missing file created when the module can (`create`).
 */
function exampleProps(m: ModuleReference, dir: string): Record<string, unknown> | undefined {
  const example = m.examples[0];
  if (!example) return undefined;
  const props = { ...(evaluateExample(example).props as Record<string, unknown>) };
  if ('pkiDir' in props) props['pkiDir'] = join(dir, 'pki');
  if (typeof props['src'] === 'string') {
    for (const file of [join(dir, props['src']), join(dir, 'templates', props['src'])]) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, 'port 8080\n');
    }
  }
  if (m.props.some((p) => p.name === 'create') && props['create'] === undefined) props['create'] = true;
  return props;
}

/** Defaults that no generic host can exercise, each with why (the other tests of the module cover them). */
const NOT_EXERCISED: Readonly<Record<string, string>> = {
  'cni-stuck-pods.kubectl': 'a different kubectl name changes only the command facts\' keys, which the fake host answers alike',
};

test('every @default that names a value is what the module applies (plan without the prop = plan with it)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-module-defaults-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ctx: TaskContext = {
    host: { name: 'h1', address: '10.0.0.9', vars: {}, groups: ['all'] } as unknown as TaskContext['host'],
    vars: {}, taskPath: 'play 1 › task 1', projectRoot: dir,
  };
  const checked: string[] = [];
  const vacuous: string[] = [];
  for (const m of reference.modules) {
    const module = byName.get(m.name)!;
    for (const p of m.props) {
      const documented = p.default !== undefined ? documentedValue(p.default) : undefined;
      if (!documented) continue;
      const base = exampleProps(m, dir);
      if (!base) continue;
      delete base[p.name];
      let exercised = false;
      for (const scenario of documented.scenarios) {
        const without = outcome(module, base, ctx, scenario);
        const withDefault = outcome(module, { ...base, [p.name]: documented.value }, ctx, scenario);
        t.is(withDefault.text, without.text, `${m.source}: ${m.propsType}.${p.name} is documented @default ${p.default}, but setting it changes the plan (${scenario} files)`);
        exercised ||= without.planned;
      }
      // Sanity: a value other than the default must make a difference somewhere, or the comparison proves nothing.
      (exercised ? checked : vacuous).push(`${m.name}.${p.name}`);
    }
  }
  t.deepEqual(vacuous.filter((v) => !(v in NOT_EXERCISED)), [], 'defaults whose plan failed on both fake hosts (nothing compared): give the module an example that plans, or list them in NOT_EXERCISED with why');
  t.log(`defaults checked against the modules' plans: ${checked.join(', ')}`);
  t.true(checked.length >= 20);
});

test('every module\'s validation knows exactly the props its interface documents: an unknown prop is refused, naming them', (t) => {
  const wrong: string[] = [];
  for (const m of reference.modules) {
    if (!m.props.length || !m.examples.length) continue;
    const props = { ...(evaluateExample(m.examples[0]!).props as Record<string, unknown>), rigUnknownProp: 1 };
    const problem = byName.get(m.name)!.validate(props).find((p) => p.startsWith('rigUnknownProp: '));
    if (!problem) { wrong.push(`${m.source}: ${m.name} accepts a prop its ${m.propsType} does not have (a typo is ignored)`); continue; }
    const allowed = new Set(/unknown prop \(allowed: (.*)\)$/.exec(problem)?.[1]?.split(', ') ?? []);
    const documented = new Set(m.props.map((p) => p.name));
    for (const a of allowed) if (!documented.has(a)) wrong.push(`${m.source}: ${m.name} accepts ${a}, which ${m.propsType} does not declare`);
    for (const d of documented) if (!allowed.has(d)) wrong.push(`${m.source}: ${m.name} refuses ${d}, which ${m.propsType} declares`);
  }
  t.deepEqual(wrong, []);
});
