/** A bench fleet above 200 hosts is made of several fleets (the fleet's /24 limit): as few as possible, as even as possible. */
import test from 'ava';
import { splitFleetSizes } from '../../bench/bench-fleet.ts';

test('fleet sizes for N hosts', (t) => {
  t.deepEqual(splitFleetSizes(50), [50]);
  t.deepEqual(splitFleetSizes(200), [200]);
  t.deepEqual(splitFleetSizes(201), [101, 100]);
  t.deepEqual(splitFleetSizes(500), [167, 167, 166]);
  t.deepEqual(splitFleetSizes(1000), [200, 200, 200, 200, 200]);
  for (let n = 1; n <= 1200; n++) {
    const sizes = splitFleetSizes(n);
    t.is(sizes.reduce((a, b) => a + b, 0), n);
    t.true(sizes.every((s) => s >= 1 && s <= 200));
    t.is(sizes.length, Math.ceil(n / 200));
  }
});
