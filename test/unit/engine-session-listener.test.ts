import test from 'ava';
import { Session } from '../../src/engine/run-playbook.ts';
import type { RunEvent } from '../../src/engine/run-events.ts';

// A progress listener is called from inside SSH data handlers (apply-host's record): a display bug that throws there
// once turned into "connection lost during a command" on a host whose second play updated a finished listr row.
test('a throwing progress listener never reaches the engine', (t) => {
  const seen: RunEvent[] = [];
  const session = new Session({ createConnector: () => { throw new Error('unused'); }, onEvent: (e) => { seen.push(e); throw new TypeError("Cannot read properties of undefined (reading 'write')"); } });
  const e: RunEvent = { kind: 'host-gathered', host: 'h', ms: 1 };
  t.notThrows(() => session.options.onEvent!(e));
  t.deepEqual(seen, [e]);
});
