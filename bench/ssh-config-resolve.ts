/**
 * The cost of resolving ssh_config for N hosts (docs/ssh.md, "ssh_config"): rig's own resolver against one `ssh -G`
 * subprocess per host (sequential, and 4 at a time). The config looks like a real one for a big fleet: one Host
 * entry per host, shared settings under `Host *`, an Include and a few Match blocks.
 *   npx tsx bench/ssh-config-resolve.ts [hosts=1000]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SshConfigResolver } from '../src/connectors/ssh-config.ts';

const run = promisify(execFile);
const n = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'rig-bench-sshcfg-'));
const hosts = Array.from({ length: n }, (_, i) => `node${i}`);
writeFileSync(join(dir, 'extra.conf'), 'Host node1*\n  ServerAliveInterval 15\n');
writeFileSync(join(dir, 'config'), [
  `Include ${join(dir, 'extra.conf')}`,
  ...hosts.map((h, i) => `Host ${h}\n  HostName 10.${(i >> 8) & 255}.${i & 255}.1\n`),
  'Match host 10.0.* user root\n  Port 2222\n',
  'Match originalhost node5*\n  ProxyJump bastion\n',
  'Host *\n  User root\n  IdentityFile ~/.ssh/id_fleet\n  IdentitiesOnly yes\n  UserKnownHostsFile ~/.ssh/known_hosts_fleet\n  StrictHostKeyChecking yes\n',
].join('\n'));

async function timed(label: string, f: () => Promise<void> | void): Promise<void> {
  const t0 = performance.now();
  await f();
  const ms = performance.now() - t0;
  console.log(`${label}: ${ms.toFixed(0)} ms total, ${(ms / n).toFixed(3)} ms per host`);
}

await timed(`rig resolver, ${n} hosts (one resolver: files read once)`, () => {
  const r = new SshConfigResolver({ configFile: join(dir, 'config') });
  for (const h of hosts) r.resolve(h);
});
await timed(`ssh -G, ${n} hosts, one at a time`, async () => {
  for (const h of hosts) await run('ssh', ['-G', '-F', join(dir, 'config'), h]);
});
await timed(`ssh -G, ${n} hosts, 4 at a time`, async () => {
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => { while (next < n) await run('ssh', ['-G', '-F', join(dir, 'config'), hosts[next++]!]); }));
});
