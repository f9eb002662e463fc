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
