import { isRigError } from '../errors.ts';
import { redactDeep, redactText } from '../core/secret.ts';
import type { Plan } from '../engine/plan-types.ts';
import { countChanges } from '../engine/plan-types.ts';

/** Version of the `--json` result shape documented in docs/json.md. Bump it on any incompatible change. */
export const JSON_SCHEMA_VERSION = 1;

/** `error` of a `--json` result (docs/json.md). */
export interface JsonError {
  readonly code: string;
  readonly message: string;
  readonly where: { readonly file?: string; readonly line?: number; readonly host?: string; readonly task?: string };
  readonly hint?: string;
}

/** A thrown error as the `error` member of a `--json` result: typed errors keep their code, anything else is INTERNAL. */
export function errorToJson(e: unknown): JsonError {
  if (isRigError(e)) return { code: e.code, message: redactText(e.message), where: { ...e.where }, ...(e.hint ? { hint: e.hint } : {}) };
  return { code: 'INTERNAL', message: redactText(String((e as Error)?.message ?? e)), where: {} };
}

/**
 * The one `--json` result of a command, written once on stdout (redacted, `schemaVersion` first). `main` writes an
 * error result if the command threw before writing its own, so stdout always holds exactly one JSON object.
 */
export class JsonResultWriter {
  #written = false;

  get written(): boolean { return this.#written; }

  write(result: Record<string, unknown>): void {
    if (this.#written) return;
    this.#written = true;
    const text = JSON.stringify(redactDeep({ schemaVersion: JSON_SCHEMA_VERSION, ...result }), null, 2);
    process.stdout.write(text + '\n');
  }
}

/** The process-wide writer (one result per CLI invocation). */
export const jsonResult = new JsonResultWriter();

/** The `error` of a plan whose hosts failed or were unreachable, summarising them (each host keeps its own error). */
export function planFailureError(plan: Plan, verb = 'planning'): JsonError | undefined {
  const bad = plan.hosts.filter((h) => h.error || h.unreachable);
  if (!bad.length) return undefined;
  const first = bad[0]!;
  const codes = new Set(bad.map((h) => h.error?.code ?? h.unreachableCode ?? 'UNREACHABLE'));
  // Every host failed the same way: that code; several kinds of failure: HOSTS_FAILED.
  const code = codes.size === 1 ? [...codes][0]! : 'HOSTS_FAILED';
  const what = bad.map((h) => `${h.host} [${h.error?.code ?? h.unreachableCode ?? 'UNREACHABLE'}]`).join(', ');
  return {
    code, message: `${verb} failed on ${bad.length} host${bad.length === 1 ? '' : 's'}: ${what}`, where: { host: first.host },
    hint: 'each host\'s own error is in plan.hosts[].error / plan.hosts[].unreachable',
  };
}

/** Whether any host of the plan has a change to make. */
export function planHasChanges(plan: Plan): boolean {
  return plan.hosts.some((h) => !h.error && !h.unreachable && countChanges(h) > 0);
}
