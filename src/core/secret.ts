/**
 * Secrets: values that must never appear in diffs, logs, errors, journals in clear, or JSON output.
 * Wrap a value with `secret()` in vars or props; every Secret's text is registered with the process-wide
 * redactor so that any output path (reporters, errors, --json) masks it as a last line of defence.
 */
export const MASK = '********';

const registered = new Set<string>();
/** `registered`, longest first; rebuilt after a registration (redactText runs on every journaled string). */
let longestFirst: string[] | undefined;

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
  if (trimmed.length < 4) return;
  longestFirst = undefined;
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
  if (registered.size === 0) return out;
  // Longest first so that a secret containing another is masked whole.
  longestFirst ??= [...registered].sort((a, b) => b.length - a.length);
  for (const s of longestFirst) {
    if (out.includes(s)) out = out.split(s).join(MASK);
  }
  return out;
}
