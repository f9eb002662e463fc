/**
 * Issue 8: the benchmark script runs end to end at N=2 (one warm-up round, one counted round) and writes its report.
 * No timing is asserted: only that every tool ran, the floor was measured, and the report holds what RESULTS.md needs.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/run-rig.ts';

const FLEET_ID = 31;

function runBench(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', join(PROJECT_ROOT, 'bench', 'bench.ts'), ...args], { cwd: PROJECT_ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

const DURATION = String.raw`\d+(?:\.\d)? m?s`;
const SPREAD = String.raw`${DURATION} \(${DURATION}–${DURATION}\)`;

test('bench at N=2: rig, Ansible (plain and mitogen, or a reason) and the floor measured; report written', async (t) => {
  // Ansible at N=2 alone takes minutes on a loaded 2-core machine (plain and mitogen, warm-up and counted rounds)
  t.timeout(20 * 60_000);
  const out = join(mkdtempSync(join(tmpdir(), 'rig-bench-')), 'RESULTS.md');
  const r = await runBench(['2', '--runs', '1', '--settle', '0', '--fleet-id', String(FLEET_ID), '--out', out, '--startup-runs', '2']);
  t.is(r.code, 0, r.output);
  const report = readFileSync(out, 'utf8');
  t.regex(report, /Machine: \d+ cores/);
  t.regex(report, /Command: `npm run bench -- 2 --runs 1 /);
  t.regex(report, /Load average \(1, 5, 15 min\) at the start: [\d.]+ [\d.]+ [\d.]+/);
  const mitogenCell = String.raw`(?:${SPREAD}|not measured)`;
  t.regex(report, new RegExp(String.raw`\| 2 \| changing \| ${SPREAD} \| ${SPREAD} \| ${mitogenCell} \| \| \| \d+\.\d×`), report);
  // both floors (curve25519, as ssh2 negotiates, and OpenSSH's default kex), rig over each, and the load of the rounds
  t.regex(report, new RegExp(String.raw`\| 2 \| converged \| ${SPREAD} \| ${SPREAD} \| ${mitogenCell} \| ${SPREAD} \| ${SPREAD} \| \d+\.\d×.*\| \d+\.\d\d \| \d+\.\d\d \| [\d.]+–[\d.]+ \|`), report);
  t.regex(report, /KexAlgorithms=curve25519-sha256/);
  t.false(report.includes('Failed runs'), report);
  t.is(report.match(/^## Sitting /gm)?.length, 1, 'one sitting, written once');
  // Round trips come from rig --stats (a real count from the SSH layer), RSS from /usr/bin/time.
  t.regex(report, /\| 2 \| 1 \| \d+ \/ \d+ \| \d+ MB \|/, report);
  if (report.includes('| not measured |')) t.regex(report, /Ansible with mitogen at N=2: \S/, 'mitogen not measured, and the report says why');
  // startup (bench/bench-startup.ts): CPU time of Node's start, --version and plan on 0 hosts, against the target
  t.regex(report, /### Startup: CPU time \(user \+ sys\) per invocation, median of 2/);
  t.regex(report, /\| `rig plan playbooks\/example\.ts`, 0 hosts \| \d+ ms \| \d+–\d+ ms \| (met|missed) \|/, report);
  t.regex(report, /\| `node -e 0` \(Node's own start\) \| \d+ ms \| \d+–\d+ ms \| \(floor\) \|/, report);
  // the changing run's restart floor and the ratios over it; where the CPU goes (controller and hosts, rig and floor)
  t.regex(report, new RegExp(String.raw`\| 2 \| ${SPREAD} \| \d+\.\d\d \| \d+\.\d\d \| (?:\d+\.\d\d|–) \|`), report);
  t.regex(report, /\| 2 \| floor, curve25519 \| \d+ ms \| \d+ ms \| \d+ ms \| 1\.00 \|/, report);
  t.regex(report, /\| 2 \| rig converged \| \d+ ms \| \d+ ms \| \d+ ms \| \d+\.\d\d \|/, report);
  t.regex(r.output, /round 1 rig +changing/);
  t.regex(r.output, /round 1 ansible +changing/);
});
