/**
 * Values Ansible's loaders produce that are not plain JSON: `!unsafe` text, `!vault` ciphertext, and values Python
 * reads but Ansible cannot print (sets, complex numbers, bytes), kept until they would reach a host.
 */
/** A string Ansible must never template (`!unsafe` in YAML, `{"__ansible_unsafe": ...}` in JSON). */
export class UnsafeText {
  constructor(readonly text: string) {}
  toString(): string { return this.text; }
  toJSON(): string { return this.text; }
}

/**
 * A value Python evaluates but Ansible cannot print (a set, a complex number, bytes in a list): Ansible fails only
 * when the value reaches a host's merged variables, so rig keeps it until then and refuses it there, naming the place.
 */
export class UnusableValue {
  constructor(readonly text: string, readonly problem: string, readonly at?: string) {}
}

/** A `!vault` value: rig keeps the ciphertext and prints it as Ansible does, `{"__ansible_vault": ...}`. */
export class VaultText {
  constructor(readonly text: string) {}
  toString(): string { return this.text; }
  toJSON(): string { return this.text; }
}

/** Ansible's `wrap_var`: strings become UnsafeText, containers are wrapped deeply. */
export function wrapUnsafe(v: unknown): unknown {
  if (typeof v === 'string') return new UnsafeText(v);
  if (Array.isArray(v)) return v.map(wrapUnsafe);
  if (v && typeof v === 'object' && !(v instanceof UnsafeText)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: wrapUnsafe(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}
