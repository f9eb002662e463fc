/**
 * Issue 7: cut the SSH connection of several hosts, or SIGKILL the controller, at every step of an apply in turn.
 * After each fault: no target file is half-written, both journals say what happened, rollback of the interrupted run
 * restores every file byte for byte, and apply again converges. Prints the matrix (fault point × outcome).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downFleet, execInHost, hostPath, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 24;
const POINTS = ['after-intent', 'between-writes', 'before-handlers', 'during-handler'] as const;
const FAULTS = ['cut-ssh', 'kill-controller'] as const;
const TARGETS = ['/etc/rig-drill/a.conf', '/etc/default/kube-proxy'];
const PLAYBOOK = 'test/fixtures/playbooks/fault-drill.ts';

let fleet: Fleet;
let stateDir: string;
const matrix: string[] = [];

const SNAP = String.raw`for p in /etc/rig-drill /etc/rig-drill/a.conf /etc/default/kube-proxy; do if [ -e "$p" ]; then printf '%s %s ' "$p" "$(stat -c '%a %U %G %F' "$p")"; [ -f "$p" ] && sha256sum < "$p" | cut -c1-64 || echo; else echo "$p absent"; fi; done; ls -a /etc/rig-drill /etc/default 2>/dev/null | grep -c rig-tmp`;
const snap = async (h: string) => (await execInHost(fleet, h, ['sh', '-c', SNAP])).stdout;
const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir];

test.before(async () => {
  fleet = await upFleet({ size: 10, id: FLEET_ID, seed: 'files' } as Parameters<typeof upFleet>[0]);
  stateDir = join(fleet.dir, 'fault-state');
  mkdirSync(stateDir, { recursive: true });
});
test.after.always(async () => {
  console.log(`\nFAULT MATRIX (point × fault → outcome)\n${matrix.join('\n')}\n`);
  await downFleet({ id: FLEET_ID });
});

/** Wait until every host in `hosts` is held at the fault point (it created /var/tmp/rig-drill-hold). */
async function waitForHold(hosts: readonly string[], timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  const pending = new Set(hosts);
  while (pending.size && Date.now() < end) {
    await Promise.all([...pending].map(async (h) => {
      const r = await execInHost(fleet, h, ['sh', '-c', '[ -e /var/tmp/rig-drill-hold ] && echo yes']);
      if (r.stdout.includes('yes')) pending.delete(h);
    }));
    if (pending.size) await new Promise((r) => setTimeout(r, 100));
  }
  if (pending.size) throw new Error(`hold point never reached on ${[...pending].join(', ')}`);
}

/** Let every held host go on (a host whose controller is gone then stops at its next report). */
async function releaseHold(): Promise<void> {
  await Promise.all(fleet.hosts.map((h) => execInHost(fleet, h.name, ['rm', '-f', '/var/tmp/rig-drill-hold'])));
}

for (const point of POINTS) {
  for (const fault of FAULTS) {
    test.serial(`${fault} at ${point}`, async (t) => {
      const names = fleet.hosts.map((h) => h.name);
      const victims = fault === 'cut-ssh' ? names.slice(1, 4) : names;
      const before = await Promise.all(names.map(snap));
      // One cut run reports in --json (the others in the human recap).
      const asJson = fault === 'cut-ssh' && point === 'between-writes';
      const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/rig.js'), 'apply', ...args(), '--break-lock', ...(asJson ? ['--json'] : []), '-e', `fault_point=${point}`, PLAYBOOK], { cwd: PROJECT_ROOT, env: { ...process.env, NO_COLOR: '1' } });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { out += d; });
      const exited = new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
      await waitForHold(names);
      if (fault === 'cut-ssh') {
        await Promise.all(victims.map((v) => execInHost(fleet, v, ['sh', '-c', "pkill -9 -f 'sshd: root@notty' || true"])));
      } else {
        child.kill('SIGKILL');
        // The host's sshd must have seen the controller go (its session process gone, the script's stdout closed)
        // before the script is let go: on a loaded machine 300 ms was not always enough, and the script finished.
        const end = Date.now() + 15_000;
        while (Date.now() < end) {
          const left = await Promise.all(victims.map((v) => execInHost(fleet, v, ['sh', '-c', "pgrep -f 'sshd: root@nott[y]' || true"])));
          if (left.every((r) => r.stdout.trim() === '')) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await new Promise((r) => setTimeout(r, 300));
      await releaseHold();
      const code = await exited;
      await new Promise((r) => setTimeout(r, 1_500)); // let orphaned host scripts run into their broken pipe
      t.not(code, 0, out);
      if (fault === 'cut-ssh') {
        // the cut hosts are reported unreachable, the others finished, and the retry file lists exactly the cut ones
        if (asJson) {
          const json = JSON.parse(out.slice(out.indexOf('{'))) as { exitCode: number; hosts: Array<{ host: string; status: string; error?: { code: string } }> };
          t.is(json.exitCode, 1);
          for (const h of json.hosts) t.is(h.status, victims.includes(h.host) ? 'unreachable' : 'changed', JSON.stringify(h));
          t.is(json.hosts.length, names.length);
        } else {
          for (const v of victims) t.regex(out, new RegExp(`${v}\\s*: .*unreachable=1`), out);
          for (const n of names.filter((x) => !victims.includes(x))) t.regex(out, new RegExp(`${n}\\s*: .*failed=0 unreachable=0`), out);
        }
        t.deepEqual(readFileSync(join(stateDir, 'retry'), 'utf8').trim().split('\n').sort(), [...victims].sort());
      }

      // 1. no half-written file: each target is exactly its before or its after content; no temp files left
      const states = await Promise.all(names.map(snap));
      const afterA = 'alpha=1\n'.repeat(200);
      for (const [i, s] of states.entries()) {
        t.true(s.trim().endsWith('\n0') || s.trim().endsWith('0'), `temp files left on ${names[i]}: ${s}`);
        for (const line of s.split('\n').filter((l) => l.startsWith('/etc/rig-drill/a.conf'))) {
          const ok = line.endsWith('absent') || line.includes(createHashHex(afterA));
          t.true(ok, `${names[i]}: ${line}`);
        }
      }
      // 2. the journals say what happened
      const runs = readdirSync(join(stateDir, 'runs')).sort();
      const runId = runs.at(-1)!;
      const events = readFileSync(join(stateDir, 'runs', runId, 'events.jsonl'), 'utf8');
      t.regex(events, /"t":"intent"/);
      const hostJournal = await execInHost(fleet, victims[0]!, ['sh', '-c', `cat /var/lib/rig/runs/${runId}/journal.log 2>/dev/null`]);
      t.regex(hostJournal.stdout, /begin 0\.0/);
      t.notRegex(hostJournal.stdout, /finished/);
      const outcome = `${point.padEnd(16)} × ${fault.padEnd(15)} → exit ${code}; host journal: ${hostJournal.stdout.trim().split('\n').join(', ')}`;
      matrix.push(outcome);

      // 3. rollback of the interrupted run restores every file byte for byte
      const rb = await runRig(['rollback', ...args(), '--break-lock', runId]);
      t.is(rb.code, 0, rb.stdout + rb.stderr);
      t.deepEqual(await Promise.all(names.map(snap)), before);

      // 4. apply again converges
      const again = await runRig(['apply', ...args(), PLAYBOOK]);
      t.is(again.code, 0, again.stdout + again.stderr);
      t.is((await runRig(['plan', ...args(), PLAYBOOK])).code, 0);
      const back = await runRig(['rollback', ...args()]);
      t.is(back.code, 0, back.stdout + back.stderr);
      t.deepEqual(await Promise.all(names.map(snap)), before);
    });
  }
}

const MB = 1000 * 1000;
const BIG = '/etc/rig-drill/big.bin';
/** sha256 of the big target and the rig temp files in its directory (name and size), one per line. */
const BIG_STATE = String.raw`sha256sum < /etc/rig-drill/big.bin | cut -c1-64; for f in /etc/rig-drill/.rig-tmp.*; do [ -e "$f" ] && stat -c '%n %s' "$f"; done; true`;
/** Kill -9 the host shell of the apply (`sh -s`) and every process that has the big target's temp file open. */
const KILL_WRITERS = `{ for fd in /proc/[0-9]*/fd/*; do case $(readlink "$fd" 2>/dev/null) in /etc/rig-drill/.rig-tmp.*) p=\${fd#/proc/}; echo "\${p%%/*}";; esac; done
  for c in /proc/[0-9]*/cmdline; do [ "$(tr '\\0' ' ' < "$c" 2>/dev/null)" = 'sh -s ' ] && p=\${c#/proc/} && echo "\${p%%/*}"; done; } | sort -u | xargs -r kill -9`;

test.serial('the host shell killed mid-write of a 40 MB file: after the next run no temp file is left, the target is its before or after content', async (t) => {
  const host = fleet.hosts[0]!.name;
  const before = randomBytes(40 * MB);
  const after = randomBytes(40 * MB);
  const src = join(stateDir, 'big-after.bin');
  writeFileSync(src, after);
  const installed = await execInHost(fleet, host, ['sh', '-c', 'mkdir -p /etc/rig-drill && cat > /usr/local/bin/base64 && chmod 0755 /usr/local/bin/base64', 'sh'], readFileSync(join(PROJECT_ROOT, 'test/fixtures/fault/slow-base64.sh'), 'utf8'));
  t.is(installed.exitCode, 0, installed.stderr);
  const bigState = async (): Promise<string[]> => (await execInHost(fleet, host, ['sh', '-c', BIG_STATE])).stdout.trim().split('\n');
  const vars = ['-e', `big_src=${src}`, '--limit', host];
  try {
    for (const next of ['rollback', 'apply'] as const) {
      writeFileSync(hostPath(fleet, host, BIG), before);
      await execInHost(fleet, host, ['sh', '-c', 'chmod 0600 /etc/rig-drill/big.bin; touch /var/tmp/rig-drill-slow']);
      const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/rig.js'), 'apply', ...args(), '--break-lock', ...vars, PLAYBOOK], { cwd: PROJECT_ROOT, env: { ...process.env, NO_COLOR: '1' } });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { out += d; });
      const exited = new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
      await waitForHold([host], 120_000);
      const mid = await bigState();
      t.is(mid.length, 2, `one temp file mid-write: ${mid.join(', ')}`);
      t.regex(mid[1] ?? '', /\/\.rig-tmp\.\S+ 10485760$/, 'the temp file holds the first 10 MiB');
      await execInHost(fleet, host, ['bash', '-c', KILL_WRITERS]);
      await execInHost(fleet, host, ['rm', '-f', '/var/tmp/rig-drill-slow', '/var/tmp/rig-drill-hold']);
      const code = await exited;
      t.not(code, 0, out);
      const killed = await bigState();
      t.is(killed[0], createHashHex(before), 'the target still holds its before content');
      t.is(killed.length, 2, 'the killed write left its temp file behind');
      const runId = readdirSync(join(stateDir, 'runs')).sort().at(-1)!;

      const r = next === 'rollback'
        ? await runRig(['rollback', ...args(), '--break-lock', runId], { timeoutMs: 600_000 })
        : await runRig(['apply', ...args(), '--break-lock', ...vars, PLAYBOOK], { timeoutMs: 600_000 });
      t.is(r.code, 0, r.stdout + r.stderr);
      const state = await bigState();
      t.deepEqual(state, [createHashHex(next === 'rollback' ? before : after)], `after the ${next}: the ${next === 'rollback' ? 'before' : 'after'} content, no temp file`);
      const journal = await execInHost(fleet, host, ['sh', '-c', `cat /var/lib/rig/runs/${runId}/journal.log`]);
      t.regex(journal.stdout, /cleanup \/etc\/rig-drill\/\.rig-tmp\.[0-9a-f]{24} from \/var\/lib\/rig\/runs\/\S+: removed/);
      matrix.push(`40 MB write × host shell killed → next ${next}: exit ${r.code}, temp removed, target = ${next === 'rollback' ? 'before' : 'after'}`);
    }
  } finally {
    await execInHost(fleet, host, ['rm', '-f', '/usr/local/bin/base64', '/var/tmp/rig-drill-slow', '/var/tmp/rig-drill-hold', BIG]);
  }
});

import { createHash, randomBytes } from 'node:crypto';
function createHashHex(s: string | Buffer): string { return createHash('sha256').update(s).digest('hex'); }
