/**
 * Issue 7, secrets: run secure-cluster and the audit proxy with --json and on a TTY, capture every
 * byte of output and every journal file, and grep for each secret and each private key's base64 body: zero hits.
 * Also: private keys on hosts are 0600 in 0700 directories; journal pre-images are 0600 on controller and hosts.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';
import { compileResultSchema } from '../helpers/result-schema.ts';

const FLEET_ID = 25;
let fleet: Fleet;
let work: string;

test.before(async () => {
  fleet = await upFleet({ size: 3, id: FLEET_ID });
  work = mkdtempSync(join(tmpdir(), 'rig-secrets-'));
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Run the CLI under a pseudo-terminal (util-linux `script`), colors and listr2 progress on. */
function runOnTty(args: string[]): string {
  const cmd = [process.execPath, join(PROJECT_ROOT, 'bin/rig.js'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: PROJECT_ROOT, env: { ...process.env, CI: '', NO_COLOR: '', TERM: 'xterm-256color' }, timeout: 240_000 });
  return r.stdout.toString() + r.stderr.toString();
}

test.serial('no secret in any output or journal; key and pre-image modes', async (t) => {
  const stateDir = join(work, 'state');
  const pkiDir = join(work, 'pki');
  const common = ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir, '-e', `pki_dir=${pkiDir}`];
  const outputs: string[] = [];
  // Every --json result of secure-cluster and the audit proxy is valid against the published schema.
  const validate = compileResultSchema();
  const valid = (stdout: string, what: string): void => { t.deepEqual(validate(JSON.parse(stdout)), [], `${what}: docs/json-schema/rig-result.v1.json`); };
  const json = await runRig(['plan', ...common, '--json', 'playbooks/secure-cluster.ts']);
  outputs.push(json.stdout, json.stderr);
  t.is(json.code, 2, json.stderr);
  valid(json.stdout, 'plan secure-cluster');
  outputs.push(runOnTty(['apply', '-y', ...common, 'playbooks/secure-cluster.ts']));
  const show = await runRig(['show', '--state-dir', stateDir]);
  outputs.push(show.stdout, show.stderr);
  const again = await runRig(['apply', ...common, '--json', 'playbooks/secure-cluster.ts']);
  outputs.push(again.stdout, again.stderr);
  valid(again.stdout, 'apply secure-cluster');
  const rb = await runRig(['rollback', ...common, '--json']);
  outputs.push(rb.stdout, rb.stderr);
  t.is(rb.code, 0, rb.stdout);
  valid(rb.stdout, 'rollback secure-cluster');
  // The audit proxy too: its server and client keys are issued into the same PKI and must never show.
  const pjson = await runRig(['plan', ...common, '--json', 'playbooks/audit-proxy.ts']);
  outputs.push(pjson.stdout, pjson.stderr);
  t.is(pjson.code, 2, pjson.stdout + pjson.stderr);
  valid(pjson.stdout, 'plan audit-proxy');
  outputs.push(runOnTty(['apply', '-y', ...common, 'playbooks/audit-proxy.ts']));
  const pshow = await runRig(['show', '--state-dir', stateDir]);
  outputs.push(pshow.stdout, pshow.stderr);
  t.regex(pshow.stdout, /kube-audit/);
  const prb = await runRig(['rollback', ...common, '--json']);
  outputs.push(prb.stdout, prb.stderr);
  t.is(prb.code, 0, prb.stdout);
  valid(prb.stdout, 'rollback audit-proxy');

  // The secrets: basic-auth passwords and every private key rig issued (and the CA key).
  const secrets: string[] = [];
  for (const line of readFileSync(join(pkiDir, 'basic-auth.csv'), 'utf8').split('\n').filter(Boolean)) secrets.push(line.split(',')[0]!);
  for (const f of walk(pkiDir).filter((p) => p.endsWith('.key'))) {
    for (const l of readFileSync(f, 'utf8').split('\n')) if (l.length >= 40 && !l.startsWith('-----')) secrets.push(l);
  }
  t.true(secrets.length > 10, `${secrets.length} secret strings`);
  const journal = walk(stateDir).filter((f) => !f.includes('/pre/')).map((f) => readFileSync(f, 'utf8'));
  const haystacks = [...outputs, ...journal];
  let hits = 0;
  for (const s of secrets) for (const h of haystacks) if (h.includes(s)) hits++;
  t.is(hits, 0, 'secret found in output or journal');

  // Pre-images are 0600 (controller) in 0700 directories.
  for (const f of walk(join(stateDir, 'runs')).filter((p) => p.includes('/pre/'))) t.is((statSync(f).mode & 0o777).toString(8), '600', f);
  // On hosts (after re-applying): keys 0600, their directory 0700, host journal pre-images 0600.
  const re = await runRig(['apply', ...common, 'playbooks/secure-cluster.ts']);
  t.is(re.code, 0, re.stdout);
  for (const h of fleet.hosts) {
    const r = await execInHost(fleet, h.name, ['sh', '-c', 'for k in $(find /srv /etc /root /var/lib -xdev -name "*.key" -path "*/kubernetes/*" 2>/dev/null) $(find /var/lib/rig/runs -path "*/pre/*" -type f); do echo "$(stat -c %a "$k") $(stat -c %a "$(dirname "$k")") $k"; done']);
    for (const line of r.stdout.trim().split('\n').filter(Boolean)) {
      const [mode, dirMode, path] = line.split(' ');
      t.is(mode, '600', `${h.name}:${path}`);
      t.is(dirMode, '700', `${h.name}:${path} directory`);
    }
  }
  void execFileSync;
});
