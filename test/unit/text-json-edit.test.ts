import test from 'ava';
import fc from 'fast-check';
import { isRigError } from '../../src/errors.ts';
import { editJson, type JsonEdit } from '../../src/text/json-edit.ts';

const CNI = '{\n    "cniVersion": "0.3.1",\n    "name": "k8s-pod-network",\n    "plugins": [\n        { "type": "bridge", "bridge": "cni0", "ipam": { "type": "host-local", "subnet": "10.244.1.0/24" } },\n        { "type": "portmap", "capabilities": {"portMappings": true} }\n    ]\n}\n';

test('editJson: scalar replacement touches only the value', (t) => {
  const out = editJson(CNI, [{ set: ['plugins', 0, 'ipam', 'subnet'], value: '10.244.2.0/24' }, { set: ['cniVersion'], value: '1.0.0' }]);
  t.is(out, CNI.replace('10.244.1.0/24', '10.244.2.0/24').replace('"0.3.1"', '"1.0.0"'));
  t.is(editJson(out, [{ set: ['cniVersion'], value: '1.0.0' }]), out, 'already as wanted: unchanged');
});

test('editJson: new members use the file indentation (4 spaces, tabs), remove, CRLF', (t) => {
  const out = editJson('{\n    "a": 1\n}\n', [{ set: ['b', 'c'], value: [1, 'x'] }, { remove: ['a'] }, { remove: ['zz'] }]);
  t.deepEqual(JSON.parse(out), { b: { c: [1, 'x'] } });
  t.regex(out, /\n {4}"b": \{\n {8}"c": \[/);
  const tabs = editJson('{\n\t"a": 1\n}', [{ set: ['b'], value: { x: 1 } }]);
  t.regex(tabs, /\n\t"b": \{\n\t\t"x": 1\n\t\}/);
  const crlf = editJson('{\r\n  "a": 1\r\n}\r\n', [{ set: ['b'], value: 2 }]);
  t.false(/[^\r]\n/.test(crlf), JSON.stringify(crlf));
  t.deepEqual(JSON.parse(crlf), { a: 1, b: 2 });
});

test('editJson: hostile strings and unicode survive', (t) => {
  const v = 'q"\\ $x `y` é☃🚀\n\t\u0001';
  const out = editJson('{"a": "x"}', [{ set: ['a'], value: v }, { set: ['k "\\é'], value: v }]);
  t.deepEqual(JSON.parse(out), { a: v, 'k "\\é': v });
});

test('editJson: arrays append at length, refuse past the end; bad paths and values are ValidationErrors', (t) => {
  t.deepEqual(JSON.parse(editJson('{"p": [1]}', [{ set: ['p', 1], value: 2 }])), { p: [1, 2] });
  for (const [edits, re] of [
    [[{ set: ['p', 3], value: 2 }], /past the end/],
    [[{ set: ['p', 'x'], value: 2 }], /use an index/],
    [[{ set: ['s', 'x'], value: 2 }], /is a string/],
    [[{ set: ['n'], value: Number.NaN }], /cannot be written as JSON/],
    [[{ set: ['n'], value: new Date(0) }], /Date cannot be written/],
  ] as [JsonEdit[], RegExp][]) {
    const e = t.throws(() => editJson('{"p": [1], "s": "v"}', edits, '/etc/cni/x.conf'));
    t.true(isRigError(e) && e.code === 'VALIDATION' && re.test(e.message) && e.where.file === '/etc/cni/x.conf', String(e));
  }
});

test('editJson: broken JSON is a ParseError with the line', (t) => {
  for (const [text, line] of [['{\n  "a": 1,\n}', 3], ['{"cniVersion": "0.3.1", "type": ', 1], ['{\n // c\n "a": 1}', 2], ['', 1]] as [string, number][]) {
    const e = t.throws(() => editJson(text, [], '/x.json'));
    t.true(isRigError(e) && e.code === 'PARSE' && e.where.line === line && /JSON/.test(e.message), `${JSON.stringify(text)}: ${String(e)}`);
  }
});

const arbJson = fc.jsonValue({ maxDepth: 3 }).map((v) => ({ root: v }));
const arbKey = fc.constantFrom('a', 'b', 'root', 'é "q"', '0');
const arbPath = fc.array(fc.oneof(arbKey, fc.nat({ max: 3 })), { minLength: 1, maxLength: 3 });
const arbEdit: fc.Arbitrary<JsonEdit> = fc.oneof(fc.record({ set: arbPath, value: fc.jsonValue({ maxDepth: 2 }) }), fc.record({ remove: arbPath }));

test('property: no edits print back byte for byte; random set/remove keeps valid JSON holding the set values', (t) => {
  let applied = 0;
  fc.assert(fc.property(arbJson, fc.constantFrom(0, 2, 4, '\t'), fc.array(arbEdit, { maxLength: 4 }), (doc, indent, edits) => {
    const text = JSON.stringify(doc, null, indent);
    t.is(editJson(text, []), text);
    let out: string;
    try { out = editJson(text, edits); } catch (e) {
      t.true(isRigError(e) && e.code === 'VALIDATION', String(e));
      return;
    }
    applied++;
    const parsed = JSON.parse(out) as unknown;
    const last = edits[edits.length - 1];
    if (last && 'set' in last) {
      let at: unknown = parsed;
      for (const seg of last.set) at = (at as Record<string | number, unknown>)[seg];
      t.deepEqual(at, JSON.parse(JSON.stringify(last.value)));
    }
  }), { numRuns: 300, seed: 5 });
  t.true(applied > 150, `only ${applied} edit lists applied`);
});
