/**
 * The gather's O record reads the hostname, uid and user name with the shell's builtins and one `id` (a converged
 * run's gather is most of what it costs a host). The real tools are the oracle: `hostname`, `id -u`, `id -un`, run as
 * the same user — root, a user with a name (nobody), and uids the password database has no name for.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { buildGatherScript } from '../../src/facts/gather-script.ts';
import { parseGatherOutput } from '../../src/facts/parse-gather-output.ts';

function asUser(uid: number | undefined, argv: string[], input?: string): string {
  const cmd = uid === undefined ? argv : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...argv];
  return execFileSync(cmd[0]!, cmd.slice(1), { cwd: '/', ...(input !== undefined ? { input } : {}) }).toString();
}

const uids: Array<number | undefined> = [undefined, 65534, 54321, 4_000_000_001, 1];

for (const uid of uids) {
  test(`O record for ${uid === undefined ? 'the test user (root)' : `uid ${uid}`} says what hostname, id -u and id -un say`, (t) => {
    const facts = parseGatherOutput([], asUser(uid, ['sh', '-s'], buildGatherScript([])), 'local');
    const expectedUser = (() => { try { return asUser(uid, ['id', '-un']).trim(); } catch { return undefined; } })();
    t.is(facts.os.uid, Number(asUser(uid, ['id', '-u']).trim()));
    t.is(facts.os.user, expectedUser);
    t.is(facts.os.hostname, execFileSync('hostname').toString().trim());
  });
}

// The hostname goes plain (`=name`) when it is only letters, digits, dots and dashes, else as base64; the
// kernel (a UTS namespace of its own, its name written to /proc/sys/kernel/hostname) is the oracle, hostile names included.
for (const name of ['node-1.example', 'UPPER.lower-09', 'with space', 'q"uote\'s', '$(id)', 'ü-nicode', '=starts-with-equals', 'back\\slash', '-dash']) {
  test(`O record: hostname ${JSON.stringify(name)} comes back as the kernel has it`, (t) => {
    const out = execFileSync('unshare', ['--uts', 'sh', '-c', 'printf %s "$1" > /proc/sys/kernel/hostname && exec sh -s', 'sh', name], { input: buildGatherScript([]) }).toString();
    const record = out.split('\n').find((l) => l.startsWith('O '))!;
    t.is(record.split(' ')[1]!.startsWith('='), /^[A-Za-z0-9.-]+$/.test(name), 'plain only when it is plain');
    t.is(parseGatherOutput([], out, 'local').os.hostname, name);
  });
}
