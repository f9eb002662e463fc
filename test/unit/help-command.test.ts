/**
 * `rig help MODULE` prints the module's reference page — the same text as docs/modules/<module>.md — from the prebuilt
 * CLI (which has no TypeScript compiler at hand: it reads the generated data bundled into dist/) and from source;
 * `rig help` lists every module; an unknown name is a USAGE error suggesting the nearest modules.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBuiltCliFresh } from '../../bin/built-cli.js';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';

const page = (name: string): string => readFileSync(join(PROJECT_ROOT, 'docs', 'modules', `${name}.md`), 'utf8');
const moduleNames = (): string[] => [...readFileSync(join(PROJECT_ROOT, 'docs', 'modules', 'README.md'), 'utf8').matchAll(/^\| \[([\w-]+)\]\(/gm)].map((m) => m[1]!);

// dist/ is built by `npm ci` (CI) or `npm run build`, and rebuilt when stale by test/unit/prebuilt-cli.test.ts alone: a
// second builder here could swap dist/ away under it. Stale (sources edited since): bin/rig.js would run the sources,
// so the prebuilt checks say so and pass.
const prebuiltStale = (t: { log(...v: unknown[]): void }): boolean => {
  if (isBuiltCliFresh(PROJECT_ROOT)) return false;
  t.log('dist/ is older than src/: prebuilt CLI not checked here (npm run build)');
  return true;
};

for (const mode of ['prebuilt', 'source'] as const) {
  const env: Record<string, string> = mode === 'source' ? { RIG_FROM_SOURCE: '1' } : {};
  const skip = (t: { log(...v: unknown[]): void; pass(): void }): boolean => { if (mode === 'prebuilt' && prebuiltStale(t)) { t.pass(); return true; } return false; };

  test(`${mode}: rig help MODULE prints docs/modules/MODULE.md, by module or factory name`, async (t) => {
    if (skip(t)) return;
    for (const [arg, name] of [['file', 'file'], ['ca-certificate', 'ca-certificate'], ['caCertificate', 'ca-certificate'], ['packages', 'package']] as const) {
      const r = await runRig(['help', arg], { env });
      t.is(r.code, 0, r.stderr);
      t.is(r.stdout, page(name), arg);
    }
  });

  test(`${mode}: rig help lists every module after the commands; rig help COMMAND is that command's help`, async (t) => {
    if (skip(t)) return;
    const r = await runRig(['help'], { env });
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /Usage: rig/);
    const names = moduleNames();
    t.true(names.length >= 20);
    for (const n of names) t.regex(r.stdout, new RegExp(`^  ${n} +\\S`, 'm'), n);
    const plan = await runRig(['help', 'plan'], { env });
    t.is(plan.code, 0);
    t.regex(plan.stdout, /^Usage: rig plan/);
  });

  test(`${mode}: an unknown module is a USAGE error naming the nearest ones, and prints no page`, async (t) => {
    if (skip(t)) return;
    const r = await runRig(['help', 'fiel'], { env });
    t.is(r.code, 1);
    t.is(r.stdout, '');
    t.regex(r.stderr, /^error\[USAGE\]: no module or command named "fiel"; did you mean "file"\?/);
    const cni = await runRig(['help', 'cni'], { env });
    t.regex(cni.stderr, /did you mean "cni-guard" or "cni-repair" or "cni-stuck-pods"\?/);
    const none = await runRig(['help', 'qqqqqqqq'], { env });
    t.is(none.code, 1);
    t.regex(none.stderr, /no module or command named "qqqqqqqq"\n  hint: modules: ca-certificate, /);
  });
}
