/**
 * redactText masks with one pass over the text through an index of the registered secrets (issue 21: a run
 * registers every host's keys line by line, and a search per secret made redaction quadratic in the hosts).
 * Differential against the former algorithm (every secret, longest first, replaced everywhere) on generated texts,
 * and the invariant on hostile ones (secrets adjacent, overlapping, nested): no registered secret survives.
 */
import test from 'ava';
import fc from 'fast-check';
import { MASK, redactText, registerSecretText } from '../../src/core/secret.ts';

/** The former redactText, restricted to `secrets` (the registry is process-wide; each run uses its own tag). */
function redactReference(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...new Set(secrets)].sort((a, b) => b.length - a.length)) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

/**
 * The spec, naively: every character inside an occurrence of a secret is masked; overlapping occurrences form one
 * mask, occurrences that only touch stay two.
 */
function redactUnion(text: string, secrets: readonly string[]): string {
  const spans: Array<[number, number]> = [];
  for (let i = 0; i < text.length; i++) {
    const longest = Math.max(0, ...secrets.filter((s) => text.startsWith(s, i)).map((s) => s.length));
    if (longest) spans.push([i, i + longest]);
  }
  let out = ''; let copied = 0; let cur: [number, number] | undefined;
  for (const [a, b] of spans) {
    if (cur && a < cur[1]) { cur[1] = Math.max(cur[1], b); continue; }
    if (cur) { out += text.slice(copied, cur[0]) + MASK; copied = cur[1]; }
    cur = [a, b];
  }
  return cur ? out + text.slice(copied, cur[0]) + MASK + text.slice(cur[1]) : text;
}

let run = 0;
/** Secrets of one property run: `Q<run>Q<body>`, so no run's secret can occur in another run's text. */
const secretsOf = (bodies: readonly string[]): string[] => { run++; return bodies.map((b) => `Q${run}Q${b}`); };
const body = fc.stringMatching(/^[a-z0-9]{1,10}$/);
const glue = fc.stringMatching(/^[ .:/_=\n]{1,4}$/);

test('same result as searching each secret, on texts of secrets separated by other text', (t) => {
  fc.assert(fc.property(fc.array(body, { minLength: 1, maxLength: 6 }), fc.array(fc.tuple(fc.nat(), glue), { maxLength: 12 }), (bodies, picks) => {
    const secrets = secretsOf(bodies);
    for (const s of secrets) registerSecretText(s);
    const text = picks.map(([i, g]) => `${g}${secrets[i % secrets.length]}`).join('') + '.';
    return redactText(text) === redactReference(text, secrets);
  }), { seed: 21, numRuns: 400 });
  t.pass();
});

test('no registered secret survives, and every character of an occurrence is masked: adjacent, nested and overlapping occurrences', (t) => {
  fc.assert(fc.property(fc.array(fc.stringMatching(/^[ab]{4,9}$/), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 10 }), fc.stringMatching(/^[ab]{0,6}$/), (raw, picks, noiseAb) => {
    let noise = noiseAb;
    run++;
    // secrets over a two-letter alphabet overlap and nest all the time; each run has its own two letters
    const [a, b] = [String.fromCharCode(0x4e00 + 2 * run), String.fromCharCode(0x4e01 + 2 * run)];
    const letters = (x: string): string => x.replace(/a/g, a).replace(/b/g, b);
    const secrets = raw.map(letters);
    noise = letters(noise);
    for (const s of secrets) registerSecretText(s);
    const text = noise + picks.map((i) => secrets[i % secrets.length]).join('') + noise;
    const out = redactText(text);
    return secrets.every((s) => !out.includes(s)) && (picks.length === 0 || out.includes(MASK)) && out === redactUnion(text, secrets);
  }), { seed: 2121, numRuns: 400 });
  t.pass();
});

test('text without a secret is returned unchanged; touching occurrences are masked one by one', (t) => {
  registerSecretText('Touch-Secret-A1');
  registerSecretText('Touch-Secret-B2');
  t.is(redactText('nothing here, not even Touch-Secret-'), 'nothing here, not even Touch-Secret-');
  t.is(redactText('Touch-Secret-A1Touch-Secret-B2'), `${MASK}${MASK}`);
  t.is(redactText('x Touch-Secret-A1 y Touch-Secret-B2 z'), `x ${MASK} y ${MASK} z`);
});

test('thousands of registered secrets (a large fleet\'s keys) against many strings', (t) => {
  const bodies = Array.from({ length: 20_000 }, (_, i) => `LargeFleetKeyLine${i.toString(36).padStart(6, '0')}xyzxyz`);
  for (const b of bodies) registerSecretText(b);
  const texts = Array.from({ length: 20_000 }, (_, i) => `/etc/kubernetes/node-${i}.conf changed ${i}`);
  for (const x of texts) t.is(redactText(x), x);
  t.is(redactText(`a ${bodies[12_345]} b`), `a ${MASK} b`);
});
