/**
 * A held script (RunScriptOptions.hold): the shell stays alive after its script, the caller sees the output up to
 * the marker line, then sends a follow-up script (or nothing) into the same shell. Real `sh` through the local
 * connector (the SSH connector shares the logic; the fleet e2e runs it over SSH). A held gather reads every fact with
 * stdin on /dev/null, so a status script that reads stdin neither eats the follow-up nor waits for it.
 */
import test from 'ava';
import { LocalConnector } from '../../src/connectors/local-connector.ts';
import { endsWithMarkerLine } from '../../src/connectors/marker-line.ts';
import { gatherHostFacts } from '../../src/engine/gather-facts.ts';
import { buildGatherScript } from '../../src/facts/gather-script.ts';
import type { Host } from '../../src/inventory/types.ts';

const host = { name: 'local', address: '127.0.0.1', vars: {}, groups: [] } as unknown as Host;

test('endsWithMarkerLine: a whole last line only, across chunk boundaries', (t) => {
  const b = (s: string) => Buffer.from(s);
  t.true(endsWithMarkerLine([b('E done\n')], 'E done'));
  t.true(endsWithMarkerLine([b('a\nE d'), b('one\n')], 'E done'));
  t.true(endsWithMarkerLine([b('a\n'), b('E'), b(' '), b('done'), b('\n')], 'E done'));
  t.false(endsWithMarkerLine([b('xE done\n')], 'E done'));
  t.false(endsWithMarkerLine([b('E done\nmore\n')], 'E done'));
  t.false(endsWithMarkerLine([b('E done')], 'E done'));
  t.false(endsWithMarkerLine([], 'E done'));
});

test('held: the marker hands over the output so far; the follow-up runs in the same shell, one more round trip', async (t) => {
  const c = new LocalConnector(host);
  let atMarker = '';
  const done = c.runScript('x=kept; echo first\necho MARK\n', {
    hold: { marker: 'MARK', onMarker: (o, send) => { atMarker = o.stdout.toString(); send('echo "second $x $$"; exit 3\n'); } },
  });
  const r = await done;
  t.is(atMarker, 'first\nMARK\n');
  t.regex(r.stdout.toString(), /^first\nMARK\nsecond kept \d+\n$/); // the shell's variable survived: same shell
  t.is(r.exitCode, 3);
  t.is(c.stats.roundTrips, 2);
});

test('held: sending nothing closes stdin and the shell exits; a script that ends before its marker resolves as usual', async (t) => {
  const c = new LocalConnector(host);
  const r = await c.runScript('echo MARK\n', { hold: { marker: 'MARK', onMarker: (_o, send) => send() } });
  t.is(r.exitCode, 0);
  t.is(c.stats.roundTrips, 1);
  let called = false;
  const early = await c.runScript('echo no-marker; exit 4\n', { hold: { marker: 'MARK', onMarker: () => { called = true; } } });
  t.false(called);
  t.is(early.exitCode, 4);
});

test('held gather: a fact reader that reads stdin gets /dev/null: it neither eats the follow-up nor waits for it', async (t) => {
  const c = new LocalConnector(host);
  // the epilogue runs inside the gather's facts block; `cat` stands for an init script's status that reads stdin
  const script = buildGatherScript([{ kind: 'file', path: '/nonexistent/rig-held' }], 'cat >/dev/null; echo greedy-done');
  let atMarker = '';
  const run = c.runScript(script, { hold: { marker: 'E done', onMarker: (o, send) => { atMarker = o.stdout.toString(); send('echo follow-up-ran\n'); } } });
  const timeout = new Promise<'timeout'>((resolve) => { setTimeout(() => resolve('timeout'), 15_000).unref(); });
  const r = await Promise.race([run, timeout]);
  if (r === 'timeout') { t.fail('the gather waited on stdin: its marker never came'); return; }
  t.regex(atMarker, /greedy-done\nE done\n$/);
  t.regex(r.stdout.toString(), /E done\nfollow-up-ran\n$/);
});

test('held gatherHostFacts: finish(script) runs in the gather\'s shell; finish() lets it exit', async (t) => {
  const c = new LocalConnector(host);
  const g = await gatherHostFacts(c, [{ kind: 'file', path: '/nonexistent/rig-held' }], undefined, undefined, undefined, true);
  t.true(g.ok);
  if (!g.ok) return;
  // rig_init is the gather's own variable (the host's init system): set only in that shell
  t.true(await g.finish!('[ -n "${rig_init:-}" ] || exit 9\n'));
  t.is(c.stats.roundTrips, 2);
  const h = await gatherHostFacts(c, [], undefined, undefined, undefined, true);
  t.true(h.ok && await h.finish!());
  t.is(c.stats.roundTrips, 3);
});
