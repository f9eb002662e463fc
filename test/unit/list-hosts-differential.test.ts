/**
 * `rig plan --list-hosts` against ansible-playbook --list-hosts (the oracle): for a playbook of plays with the host
 * patterns below, over a fleet-shaped inventory, each play lists the same hosts with and without --limit. Patterns
 * themselves are compared host by host in test/e2e/inventory-ansible.test.ts; this checks play ∩ --limit and the listing.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { renderInventory } from '../fleet/fleet-files.ts';
import { runRig } from '../helpers/run-rig.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'rig-list-hosts-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const PLAY_PATTERNS = ['all', 'masters', 'workers:!worker1', '~worker[2-4]$', 'workers[1:3]', 'master1,worker5', 'all:&workers:!worker1'];
const LIMITS = [undefined, 'workers', 'master1,worker2', '~worker1', 'all:!worker3', 'workers[0:4]'];

const inventory = join(dir, 'inventory.yaml');
const hosts = Array.from({ length: 12 }, (_, i) => ({ name: i === 0 ? 'master1' : `worker${i}`, ip: `10.213.98.${10 + i}`, role: i === 0 ? 'master' : 'worker' }));
writeFileSync(inventory, renderInventory(hosts as never, '/root/.fleet/id_ed25519'));
writeFileSync(join(dir, 'pb.yml'), PLAY_PATTERNS.map((p) => `- name: play ${p}\n  hosts: '${p}'\n  gather_facts: false\n  tasks: []\n`).join(''));
writeFileSync(join(dir, 'pb.ts'), `import { definePlaybook } from 'rig';\nexport default definePlaybook({ name: 'x', plays: ${JSON.stringify(PLAY_PATTERNS.map((p) => ({ name: `play ${p}`, hosts: p, tasks: [] })))} });\n`);

/** Per play (in order), its listed hosts, sorted. */
function parseListing(text: string): string[][] {
  const plays: string[][] = [];
  let inHosts = false;
  for (const line of text.split('\n')) {
    if (/^  play #\d+/.test(line)) { plays.push([]); inHosts = false; continue; }
    if (/^    hosts \(\d+\):/.test(line)) { inHosts = true; continue; }
    if (inHosts && /^      \S/.test(line)) plays[plays.length - 1]!.push(line.trim());
    else inHosts = false;
  }
  return plays.map((p) => p.sort());
}

for (const limit of LIMITS) {
  test(`--list-hosts${limit ? ` --limit ${limit}` : ''} lists the hosts ansible-playbook lists, play by play`, async (t) => {
    const lim = limit ? ['--limit', limit] : [];
    const ansible = await run('ansible-playbook', ['-i', inventory, ...lim, '--list-hosts', join(dir, 'pb.yml')], { env: { ...process.env, ANSIBLE_NOCOLOR: '1' } });
    const rig = await runRig(['plan', '-i', inventory, ...lim, '--list-hosts', join(dir, 'pb.ts')]);
    t.is(rig.code, 0, rig.stderr);
    const expected = parseListing(ansible.stdout);
    t.is(expected.length, PLAY_PATTERNS.length, ansible.stdout);
    t.deepEqual(parseListing(rig.stdout), expected);
    t.regex(rig.stdout, /    pattern: \['masters'\]\n    hosts \(\d+\):/);
  });
}
