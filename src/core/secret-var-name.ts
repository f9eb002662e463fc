import { isSecret, registerSecretText } from './secret.ts';

/** Names that say a variable holds a secret: password, passwd, pass, secret, token, vault, `…_key` / `key`. */
const SECRET_VAR = /(pass(word)?|passwd|secret|token|(^|_)key$|vault)/i;

/**
 * The one rule for "this variable's value is a secret" — `rig inventory` masks these, and plan/apply register their
 * values for masking everywhere. A name ending in `_file` names a path, not a secret (`ansible_ssh_private_key_file`).
 */
export function isSecretVarName(name: string): boolean {
  return SECRET_VAR.test(name) && !/_file$/.test(name);
}

/**
 * Register the values of secret-named variables (strings and numbers, top level) with the redactor, except the
 * names the playbook declares public (`publicVars`). Secret values (`secret()`) are registered already.
 */
export function registerSecretVars(vars: Readonly<Record<string, unknown>>, publicNames: ReadonlySet<string> = new Set()): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!isSecretVarName(k) || publicNames.has(k) || isSecret(v)) continue;
    if (typeof v === 'string' || typeof v === 'number') registerSecretText(String(v));
  }
}
