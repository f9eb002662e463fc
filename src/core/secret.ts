/**
 * Secrets: values that must never appear in diffs, logs, errors, journals in clear, or JSON output.
 * Wrap a value with `secret()` in vars or props; every Secret's text is registered with the process-wide
 * redactor so that any output path (reporters, errors, --json) masks it as a last line of defence.
 */
export const MASK = '********';

const registered = new Set<string>();
/**
 * `registered` indexed by the code of their first 4 characters, each list longest first; rebuilt after a
 * registration. redactText runs on every journaled string and a run registers every host's keys (each by line): one
 * pass over the text with this index, instead of a search per secret, keeps the cost linear in the hosts (issue 21).
 */
let byPrefix: Map<number, string[]> | undefined;
/** Every registered secret has at least this many characters (registerSecretText ignores shorter ones). */
const MIN_SECRET = 4;

function prefixCode(text: string, at: number): number {
  return ((text.charCodeAt(at) * 65_599 + text.charCodeAt(at + 1)) * 65_599 + text.charCodeAt(at + 2)) * 65_599 + text.charCodeAt(at + 3);
}

function indexSecrets(): Map<number, string[]> {
  const index = new Map<number, string[]>();
  for (const s of registered) {
    const k = prefixCode(s, 0);
    const list = index.get(k);
    if (list) list.push(s); else index.set(k, [s]);
  }
  for (const list of index.values()) list.sort((a, b) => b.length - a.length);
  return index;
}

/** A value that is never shown: made with `secret('…')`, masked in diffs, logs, events, errors and the journal. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    registerSecretText(value);
  }
  /** The clear value. Only modules writing the secret to its destination call this. */
  reveal(): string { return this.#value; }
  toString(): string { return MASK; }
  toJSON(): string { return MASK; }
  [Symbol.for('nodejs.util.inspect.custom')](): string { return `Secret(${MASK})`; }
}

export function secret(value: string): Secret {
  return new Secret(value);
}

export function isSecret(v: unknown): v is Secret {
  return v instanceof Secret;
}

/** Reveal a Secret or pass a string through. */
export function revealText(v: string | Secret): string {
  return typeof v === 'string' ? v : v.reveal();
}

/**
 * Register text to be masked everywhere (too-short strings are ignored: masking "a" would mangle output).
 * PEM private keys are registered as a whole and by each base64 line, so a partial leak is masked too.
 */
export function registerSecretText(text: string): void {
  // File content usually ends in a newline that output trims (a command's message, a log line): the secret is its
  // text without surrounding whitespace, which also masks it where the newline is kept (and keeps that newline).
  const trimmed = text.trim();
  if (trimmed.length < MIN_SECRET) return;
  const before = registered.size;
  registerSecretParts(text, trimmed);
  // The same secret registered again (a task reading its vars per host) keeps the index.
  if (registered.size !== before) byPrefix = undefined;
}

function registerSecretParts(text: string, trimmed: string): void {
  const blocks = trimmed.match(PEM_BLOCKS);
  if (blocks && trimmed.replace(PEM_BLOCKS, '').trim() === '') {
    // Nothing but PEM blocks (a key, or a certificate chain beside its key): only the private keys are secret; the
    // certificates are public and stay readable in diffs.
    for (const b of blocks) if (/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(b)) registerPrivateKeyBlock(b);
    return;
  }
  registered.add(trimmed);
  if (text.includes('PRIVATE KEY-----')) {
    for (const line of text.split(/\r?\n/)) if (line.length >= 16 && !line.startsWith('-----')) registered.add(line);
  }
}

const PEM_BLOCKS = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** A PEM private key block, whole and by each base64 line, so a partial leak is masked too. */
function registerPrivateKeyBlock(block: string): void {
  registered.add(block);
  for (const line of block.split(/\r?\n/)) if (line.length >= 16 && !line.startsWith('-----')) registered.add(line);
}

/** True when `text` holds a registered secret (or a PEM private key). */
export function containsSecret(text: string): boolean {
  return redactText(text) !== text;
}

/**
 * Mask every string inside a JSON-like value (objects, arrays), e.g. before it is stringified: masking the JSON text
 * instead would miss a secret with a newline, quote or backslash (JSON escapes them).
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === 'object' && !(value instanceof Secret) && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}

/** Mask every registered secret and every PEM private key block in `text`. */
export function redactText(text: string): string {
  let out = text.replace(
    /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g,
    (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY-----\n${MASK}\n-----END ${kind}PRIVATE KEY-----`,
  );
  if (registered.size === 0 || out.length < MIN_SECRET) return out;
  const index = byPrefix ??= indexSecrets();
  // Every character inside an occurrence of a secret is masked: overlapping occurrences merge into one mask, so a
  // secret containing (or overlapping) another is masked whole; occurrences that only touch stay separate masks.
  let masked = '';
  let copied = 0;
  let start = -1;
  let end = -1;
  for (let i = 0; i + MIN_SECRET <= out.length; i++) {
    const candidates = index.get(prefixCode(out, i));
    if (candidates === undefined) continue;
    const hit = candidates.find((c) => out.startsWith(c, i));
    if (hit === undefined) continue;
    if (i < end) { end = Math.max(end, i + hit.length); continue; }
    if (start >= 0) { masked += out.slice(copied, start) + MASK; copied = end; }
    start = i;
    end = i + hit.length;
  }
  if (start < 0) return out;
  return masked + out.slice(copied, start) + MASK + out.slice(end);
}
