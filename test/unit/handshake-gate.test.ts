import test from 'ava';
import { HandshakeGate } from '../../src/connectors/handshake-gate.ts';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

test('never more handshakes in flight than the limit; all run, in arrival order', async (t) => {
  const gate = new HandshakeGate(3);
  let inFlight = 0; let peak = 0; const started: number[] = [];
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => gate.run(async () => {
    started.push(i); inFlight++; peak = Math.max(peak, inFlight);
    await tick(5 + (i % 3));
    inFlight--;
    return i * 2;
  })));
  t.is(peak, 3);
  t.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.deepEqual(results, Array.from({ length: 10 }, (_, i) => i * 2));
  t.is(gate.active, 0);
});

test('a failed handshake frees its slot and its error reaches only its caller', async (t) => {
  const gate = new HandshakeGate(1);
  const a = gate.run(async () => { await tick(); throw new Error('timed out'); });
  const b = gate.run(async () => 'second');
  await t.throwsAsync(a, { message: 'timed out' });
  t.is(await b, 'second');
  t.is(gate.active, 0);
});

test('a limit below 1 is refused', (t) => {
  t.throws(() => new HandshakeGate(0), { instanceOf: RangeError });
  t.throws(() => new HandshakeGate(1.5), { instanceOf: RangeError });
});
