/**
 * The bad-input corpus (test/bad-input/*): each case gets a clear error (code, what, where), a non-zero exit, and
 * changes nothing on any host.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';

interface BadCase { args: string[]; code: string; message: string; where?: string; setup?: [string, string][]; prepare?: string }

/** Preparations that need the fleet or generated material, written into the case's work directory. */
function prepare(kind: string, work: string, caseDir: string): void {
  const pki = join(work, 'pki');
  const makeCa = (): void => {
    mkdirSync(pki, { recursive: true, mode: 0o700 });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(pki, 'ca.key'), '-out', join(pki, 'ca.crt'), '-days', '30', '-subj', '/CN=bad-input-ca'], { stdio: 'ignore' });
    chmodSync(join(pki, 'ca.key'), 0o600);
  };
  switch (kind) {
    case 'pki-wrong-mode': makeCa(); chmodSync(join(pki, 'ca.key'), 0o644); break;
    case 'pki-bad-cert': makeCa(); writeFileSync(join(pki, 'ca.crt'), '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n'); break;
    case 'pki-no-key': makeCa(); rmSync(join(pki, 'ca.key')); break;
    case 'ssh-empty-known':
    case 'ssh-wrong-known': {
      const known = join(work, 'known_hosts');
      if (kind === 'ssh-empty-known') writeFileSync(known, '');
      else {
        // Every fleet host name and IP, but with a key that is not theirs.
        execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'other_key')]);
        const pub = readFileSync(join(work, 'other_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
        writeFileSync(known, fleet.hosts.map((h) => `${h.name},${h.ip} ${pub}\n`).join(''));
      }
      writeFileSync(join(work, 'ssh_config'), readFileSync(fleet.sshConfigPath, 'utf8').replaceAll(fleet.knownHostsPath, known));
      break;
    }
    case 'saved-plan-old':
      writeFileSync(join(work, 'saved.json'), JSON.stringify({
        format: 'rig-plan/1', createdAt: new Date().toISOString(), inventory: [fleet.inventoryPath], plays: [], hosts: [],
        playbook: { path: join(caseDir, 'playbook.ts'), name: 'ok', sha256: '0'.repeat(64) },
      }));
      break;
    default: throw new Error(`unknown preparation ${kind}`);
  }
}

const FLEET_ID = 23;
const CORPUS = join(PROJECT_ROOT, 'test', 'bad-input');
let fleet: Fleet;

const HASH_ALL = `find /etc /srv /root /var/lib/rig -xdev -type f 2>/dev/null | sort | xargs -d '\\n' sha256sum 2>/dev/null | sha256sum`;
const fingerprint = async () => (await Promise.all(fleet.hosts.map((h) => execInHost(fleet, h.name, ['sh', '-c', HASH_ALL])))).map((r) => r.stdout).join('');

test.before(async () => { fleet = await upFleet({ size: 2, id: FLEET_ID }); });
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const cases = readdirSync(CORPUS).filter((d) => existsSync(join(CORPUS, d, 'case.json'))).sort();

test('the corpus has at least 50 cases', (t) => { t.true(cases.length >= 50, `${cases.length} cases`); });

for (const name of cases) {
  test.serial(name, async (t) => {
    const dir = join(CORPUS, name);
    const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as BadCase;
    const stateDir = join(fleet.dir, 'bad-input-state', name);
    const work = join(fleet.dir, 'bad-input-work', name);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    if (c.prepare) prepare(c.prepare, work, dir);
    const master = fleet.hosts.find((h) => h.role === 'master')!;
    const subst = (s: string) => s.replaceAll('{case}', dir).replaceAll('{fleet_inventory}', fleet.inventoryPath)
      .replaceAll('{ssh_config}', fleet.sshConfigPath).replaceAll('{state_dir}', stateDir).replaceAll('{fleet_dir}', fleet.dir)
      .replaceAll('{master}', master.name).replaceAll('{work}', work);
    for (const [host, script] of c.setup ?? []) await execInHost(fleet, subst(host), ['sh', '-c', subst(script)]);
    const before = await fingerprint();
    const r = await runRig(c.args.map(subst), { cwd: dir, timeoutMs: 60_000, env: { RIG_CASE_WORK: work } });
    const text = r.stdout + r.stderr;
    t.not(r.code, 0, text);
    t.not(r.code, 2, 'an error is exit 1, never "changes pending"');
    const unreachable = c.code === 'UNREACHABLE' ? '|UNREACHABLE:' : `|UNREACHABLE \\[${c.code}\\]`;
    t.regex(text, new RegExp(`(error\\[${c.code}\\]|FAILED \\[${c.code}\\]|"code": "${c.code}"${unreachable})`), text);
    t.regex(text, new RegExp(c.message), text);
    if (c.where) t.regex(text, new RegExp(subst(c.where)), text);
    t.notRegex(text, /error\[INTERNAL\]|at .*\.ts:\d+:\d+\)/, 'no internal error or stack trace');
    // The same with --json: stdout is exactly one JSON object with the exit code and a typed error (docs/json.md).
    const j = await runRig([...c.args.map(subst), '--json'], { cwd: dir, timeoutMs: 60_000, env: { RIG_CASE_WORK: work } });
    let parsed: { schemaVersion?: number; exitCode?: number; error?: { code?: string; message?: string; where?: unknown } };
    try { parsed = JSON.parse(j.stdout) as typeof parsed; } catch { t.fail(`--json: stdout is not one JSON object:\n${j.stdout}\n${j.stderr}`); return; }
    t.is(parsed.schemaVersion, 1);
    t.is(parsed.exitCode, j.code, '--json: exitCode is the exit code');
    t.not(j.code, 0);
    t.not(j.code, 2);
    t.is(typeof parsed.error?.message, 'string', `--json: an error: ${j.stdout}`);
    t.is(typeof parsed.error?.where, 'object');
    t.regex(parsed.error?.code ?? '', new RegExp(`^(${c.code})$`), `--json: error.code: ${j.stdout}`);
    t.is(await fingerprint(), before, 'no host changed');
  });
}
