/**
 * Startup (issue 21): CPU time (user + sys) of one rig process that does no SSH at all — `rig --version`, and
 * `rig plan` of a playbook on an inventory with 0 hosts (`all: {hosts: {}}`: the playbook is loaded and validated,
 * then plan exits 1 "matches no host") — against `node -e 0`, Node's own start. CPU time, not wall time: it holds on a
 * loaded machine, where wall time is mostly queueing. Each command runs under `bash -c '…; times'`: bash's `times`
 * reports its children's user and sys time to the millisecond (no extra tool). One untimed run of each first (the
 * playbook compile cache and the CLI's V8 code cache are then warm, as on any second run); the prebuilt CLI is built
 * first when dist/ is stale.
 *
 *   npm run bench -- --startup-only [--startup-runs R]     (bench/bench.ts also measures it in every sitting)
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBuiltCliFresh } from '../bin/built-cli.js';
import { PROJECT_ROOT } from '../test/fleet/fleet-layout.ts';
import { log, median } from './bench-report.ts';

/** The target of issue 21, in ms of CPU per start. */
export const STARTUP_TARGET_MS = 150;

export interface StartupRow {
  readonly label: string;
  /** Under the target or not (the `node -e 0` floor has no target). */
  readonly target: boolean;
  /** CPU ms (user + sys) of each counted run. */
  readonly cpuMs: readonly number[];
  /** The exit code every run is expected to have (plan on 0 hosts: 1), or the unexpected one seen. */
  readonly problem?: string;
}

export interface StartupResult {
  readonly runs: number;
  readonly rows: readonly StartupRow[];
  /** Whether dist/ had to be built first. */
  readonly built: boolean;
}

const RIG = join(PROJECT_ROOT, 'bin', 'rig.js');

/** CPU ms of one run of argv (children's user + sys from bash's `times`), and its exit code. */
function cpuOfRun(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<{ cpuMs: number; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', '"$@" >/dev/null 2>&1; code=$?; times; exit $code', 'bash', ...argv], { cwd: PROJECT_ROOT, env });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      // `times`: the shell's own user/sys, then its children's: "0m0.094s 0m0.021s"
      const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/m.exec(out.trim().split('\n')[1] ?? '');
      if (!m) { reject(new Error(`no CPU times from bash: ${out}`)); return; }
      resolve({ cpuMs: (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000, code: code ?? -1 });
    });
  });
}

export async function measureStartup(runs = 20): Promise<StartupResult> {
  const built = !isBuiltCliFresh(PROJECT_ROOT);
  if (built) {
    log('startup: dist/ is stale, building the CLI first (npm run build)');
    execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build-cli.mjs')], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  }
  const work = join(PROJECT_ROOT, 'bench', '.work');
  mkdirSync(work, { recursive: true });
  const inventory = join(work, 'startup-inventory.yaml');
  writeFileSync(inventory, 'all:\n  hosts: {}\n');
  // No project file, no RIG_* settings of the caller's shell: the same process the table names.
  const env: NodeJS.ProcessEnv = { ...process.env, RIG_PROJECT_FILE: 'none', NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('RIG_') && k !== 'RIG_PROJECT_FILE' && k !== 'RIG_CACHE_DIR') delete env[k];
  const commands: Array<{ label: string; argv: string[]; code: number; target: boolean }> = [
    { label: '`node -e 0` (Node\'s own start)', argv: [process.execPath, '-e', '0'], code: 0, target: false },
    { label: '`rig --version`', argv: [process.execPath, RIG, '--version'], code: 0, target: true },
    { label: '`rig plan playbooks/example.ts`, 0 hosts', argv: [process.execPath, RIG, 'plan', '-i', inventory, 'playbooks/example.ts'], code: 1, target: true },
    { label: '`rig plan playbooks/secure-cluster.ts`, 0 hosts', argv: [process.execPath, RIG, 'plan', '-i', inventory, 'playbooks/secure-cluster.ts'], code: 1, target: true },
  ];
  const samples = commands.map((): number[] => []);
  const problems = commands.map((): string | undefined => undefined);
  for (const [i, c] of commands.entries()) {
    const warm = await cpuOfRun(c.argv, env);
    if (warm.code !== c.code) problems[i] = `exit ${warm.code} (expected ${c.code})`;
  }
  // Round-robin, so a burst of load elsewhere touches every command alike.
  for (let r = 0; r < runs; r++) {
    for (const [i, c] of commands.entries()) {
      const run = await cpuOfRun(c.argv, env);
      if (run.code !== c.code) problems[i] = `exit ${run.code} (expected ${c.code})`;
      samples[i]!.push(run.cpuMs);
    }
  }
  const rows = commands.map((c, i): StartupRow => ({ label: c.label, target: c.target, cpuMs: samples[i]!, ...(problems[i] ? { problem: problems[i] } : {}) }));
  for (const row of rows) log(`startup: ${row.label}: ${Math.round(median([...row.cpuMs]))} ms CPU (median of ${row.cpuMs.length})${row.problem ? `, ${row.problem}` : ''}`);
  return { runs, rows, built };
}

/** The sitting's startup table (Markdown lines). */
export function renderStartup(s: StartupResult): string[] {
  const lines = [
    `### Startup: CPU time (user + sys) per invocation, median of ${s.runs} (bench/bench-startup.ts)`, '',
    `0-host inventory \`all: {hosts: {}}\` (plan exits 1 "matches no host" after loading and validating the playbook); the playbook compile cache and the CLI's code cache warm${s.built ? '; dist/ built by the bench first' : ''}. Target: ≤ ${STARTUP_TARGET_MS} ms.`, '',
    '| command | CPU median | min–max | target ≤ 150 ms |', '|---|---|---|---|',
  ];
  for (const row of s.rows) {
    const xs = [...row.cpuMs];
    const med = xs.length ? Math.round(median(xs)) : undefined;
    const verdict = row.problem ? 'not valid' : !row.target ? '(floor)' : med === undefined ? 'failed' : med <= STARTUP_TARGET_MS ? 'met' : 'missed';
    lines.push(`| ${row.label} | ${med === undefined ? 'failed' : `${med} ms`} | ${xs.length ? `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))} ms` : '–'} | ${verdict}${row.problem ? ` (${row.problem})` : ''} |`);
  }
  return lines;
}
