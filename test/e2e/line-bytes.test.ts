/**
 * Issue 13 item 3 (bytes, not characters) and issue 15 section 3 on the fleet. A Latin-1 file with a CRLF line and no
 * final newline, edited by `line`: the plan shows a readable one-line diff (undecodable bytes as \xHH, not "Binary
 * files differ"), apply changes exactly that line's bytes, a second plan shows no change, rollback restores the file
 * byte for byte with its mode and owner. A file that is not valid UTF-8, edited with regexps that must match across
 * its undecodable bytes, ends up exactly as Ansible's own lineinfile leaves the same bytes (the oracle of the
 * differential suite, run locally on the same content and arguments). `validate`: a validated edit is applied, an
 * edit its validator refuses fails the host and leaves the file exactly as it was.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig, type RigResult } from '../helpers/run-rig.ts';
import { LEGACY_EDITS } from '../fixtures/playbooks/line-bytes.ts';

const FLEET_ID = 50;
const PLAYBOOK = 'test/fixtures/playbooks/line-bytes.ts';
const APP = '/srv/li/app.conf';
const LEGACY = '/srv/li/legacy.conf';
const APP_BEFORE = Buffer.from('# r\xe9glages\ncaf\xe9 = 1\r\nname = old\nlast = \xff\xfe', 'latin1');
const APP_AFTER = Buffer.from('# r\xe9glages\ncaf\xe9 = 1\r\nname = new\nlast = \xff\xfe', 'latin1');
const LEGACY_BEFORE = Buffer.from('# ancien\nuser=ren\xe9e\r\npath=/home/ren\xe9e/\xff\nport=1', 'latin1');
let fleet: Fleet;
let stateDir: string;

test.before(async () => {
  fleet = await upFleet({ size: 1, id: FLEET_ID, seed: 'none' });
  stateDir = mkdtempSync(join(tmpdir(), 'rig-line-bytes-'));
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir, PLAYBOOK];
const said = (r: RigResult): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`.slice(-6000);

async function sh(script: string, ...a: string[]): Promise<string> {
  const r = await execInHost(fleet, fleet.hosts[0]!.name, ['sh', '-c', script, 'sh', ...a]);
  if (r.exitCode !== 0) throw new Error(`${script}: ${r.stderr}`);
  return r.stdout;
}
const put = (path: string, bytes: Buffer, mode: string, owner: string): Promise<string> =>
  sh('printf %s "$2" | base64 -d > "$1" && chmod "$3" "$1" && chown "$4" "$1"', path, bytes.toString('base64'), mode, owner);
const bytesOf = async (path: string): Promise<Buffer> => Buffer.from((await sh('base64 -w0 < "$1"', path)).trim(), 'base64');
const attrsOf = async (path: string): Promise<string> => (await sh('stat -c "%a %U:%G" -- "$1"', path)).trim();
const show = (b: Buffer): string => JSON.stringify(b.toString('latin1'));

/** Ansible's lineinfile applied to `content`, edit after edit (test/helpers/lineinfile-oracle.py). */
function ansibleResult(content: Buffer, edits: ReadonlyArray<Record<string, unknown>>): Buffer {
  let now = content;
  for (const e of edits) {
    const input = `${JSON.stringify({ content: now.toString('base64'), args: e })}\n`;
    const r = spawnSync('/usr/bin/python3', [join(PROJECT_ROOT, 'test', 'helpers', 'lineinfile-oracle.py')], { input });
    const out = JSON.parse(r.stdout.toString()) as { failed: boolean; msg: string; content: string };
    if (out.failed) throw new Error(`Ansible's lineinfile failed: ${out.msg}`);
    now = Buffer.from(out.content, 'base64');
  }
  return now;
}

test.serial('a Latin-1 file with a CRLF line and no final newline: readable one-line diff, exact bytes, converged, rolled back byte for byte', async (t) => {
  await sh('mkdir -p /srv/li');
  await put(APP, APP_BEFORE, '640', 'daemon:bin');
  await put(LEGACY, LEGACY_BEFORE, '600', 'bin:daemon');
  const legacyWanted = ansibleResult(LEGACY_BEFORE, LEGACY_EDITS.map((e) => ({ regexp: e.regexp, line: e.line, ...('backrefs' in e ? { backrefs: e.backrefs } : {}) })));
  t.true(legacyWanted.includes(Buffer.from('owner=ren\xe9e\n', 'latin1')), `Ansible copies the undecodable byte through the backreference: ${show(legacyWanted)}`);
  t.not(legacyWanted.indexOf(Buffer.from('path=/srv/home\n')), -1, `the regexp matched across \\xe9 and \\xff: ${show(legacyWanted)}`);

  const plan = await runRig(['plan', ...args()]);
  t.is(plan.code, 2, said(plan));
  t.false(/Binary files differ/.test(plan.stdout), said(plan));
  t.false(plan.stdout.includes('\ufffd'), said(plan));
  // The plan indents each diff line by 6 spaces.
  const planLines = plan.stdout.split('\n').map((l) => l.replace(/^ {6}/, ''));
  const at = planLines.indexOf('+++ b/srv/li/app.conf');
  t.true(at > 0, said(plan));
  t.deepEqual(planLines.slice(at - 3, at + 8), [
    '(bytes that are not UTF-8 are shown as \\xHH)', '(carriage returns are shown as \\r)', '--- a/srv/li/app.conf', '+++ b/srv/li/app.conf',
    '@@ -1,4 +1,4 @@', ' # r\\xe9glages', ' caf\\xe9 = 1\\r', '-name = old', '+name = new', ' last = \\xff\\xfe', '\\ No newline at end of file',
  ], said(plan));

  const apply = await runRig(['apply', ...args()]);
  t.is(apply.code, 0, said(apply));
  t.is(show(await bytesOf(APP)), show(APP_AFTER), 'only the edited line changed, every other byte kept');
  t.is(show(await bytesOf(LEGACY)), show(legacyWanted), 'the non-UTF-8 file ends exactly as Ansible leaves it');
  t.is(await attrsOf(APP), '640 daemon:bin');
  t.is(await attrsOf(LEGACY), '600 bin:daemon');

  const again = await runRig(['plan', ...args()]);
  t.is(again.code, 0, said(again));

  const rollback = await runRig(['rollback', '-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir]);
  t.is(rollback.code, 0, said(rollback));
  t.is(show(await bytesOf(APP)), show(APP_BEFORE), 'rollback restores the Latin-1 file byte for byte');
  t.is(show(await bytesOf(LEGACY)), show(LEGACY_BEFORE), 'rollback restores the non-UTF-8 file byte for byte');
  t.is(await attrsOf(APP), '640 daemon:bin');
  t.is(await attrsOf(LEGACY), '600 bin:daemon');
});

test.serial('validate: the validator sees the new content; a refused edit fails and leaves the file byte for byte as it was', async (t) => {
  const before = Buffer.from('a=1\r\nb=\xe9', 'latin1');
  await sh('mkdir -p /srv/li');
  await put('/srv/li/checked.conf', before, '644', 'root:root');
  const apply = await runRig(['apply', ...args().slice(0, -1), '-e', 'scene=validate', PLAYBOOK]);
  t.is(apply.code, 1, said(apply));
  t.regex(apply.stdout + apply.stderr, /validation of the new \/srv\/li\/checked\.conf failed \(the file is unchanged\)/, said(apply));
  // The first (validated) edit was applied, the second was refused by its validator before the rename.
  t.is(show(await bytesOf('/srv/li/checked.conf')), show(Buffer.from('a=2\nb=\xe9', 'latin1')));
  const files = await sh('ls -A /srv/li');
  t.deepEqual(files.trim().split('\n').sort(), ['app.conf', 'checked.conf', 'legacy.conf'], 'no temp file left');
});
