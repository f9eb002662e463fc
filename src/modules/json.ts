import type { ModeInput } from '../core/file-mode.ts';
import { isDeepStrictEqual } from 'node:util';
import { findNodeAtLocation, getNodeValue, type Node } from 'jsonc-parser';
import type { HostFacts } from '../facts/fact-request.ts';
import { editJson, parseJsonTree, type JsonEdit, type JsonPath } from '../text/json-edit.ts';
import { planTextWrite, readTextFact, validateFileProps } from './flags.ts';
import { checkUnknownProps } from './file-write.ts';
import { defineModule, type PlanResult, type TaskContext } from './module.ts';

export interface JsonProps {
  /** Absolute path of the JSON file on the host, e.g. `/etc/cni/net.d/10-bridge.conf`. */
  readonly path: string;
  /**
   * Members to set: dotted path → value, e.g. `{ 'plugins.0.ipam.subnet': '10.244.0.0/16' }`. A segment of digits
   * is an array index when that part of the document is an array; `\.` is a dot inside a key.
   */
  readonly set?: Readonly<Record<string, unknown>>;
  /** Dotted paths of members to remove (absent ones are ignored). */
  readonly remove?: readonly string[];
  /** Create the file (as `{}` plus the `set` members) when it is absent. @default false */
  readonly create?: boolean;
  /** File mode, an octal string ('0644') or number (0o644). @default existing mode, else '0644' */
  readonly mode?: ModeInput;
  /** Owner, a user name or numeric uid. @default existing owner, else 'root' */
  readonly owner?: string;
  /** Group, a group name or numeric gid. @default existing group, else 'root' */
  readonly group?: string;
}

/** Split a dotted path (`a.b\.c.0` → ['a', 'b.c', '0']). */
export function splitDottedPath(dotted: string): string[] {
  return dotted.split(/(?<!\\)\./).map((s) => s.replace(/\\\./g, '.'));
}

/** Resolve a dotted path against a document: digit segments become indexes where the document holds an array. */
export function resolveJsonPath(tree: Node | undefined, dotted: string): JsonPath {
  const out: (string | number)[] = [];
  for (const seg of splitDottedPath(dotted)) {
    const parent = tree ? findNodeAtLocation(tree, out) : undefined;
    out.push(parent?.type === 'array' && /^\d+$/.test(seg) ? Number(seg) : seg);
  }
  return out;
}

const shown = (v: unknown): string => { const s = JSON.stringify(v) ?? String(v); return s.length > 60 ? `${s.slice(0, 57)}…` : s; };

const JSON_PROPS = ['path', 'set', 'remove', 'create', 'mode', 'owner', 'group'];

function validateJson(props: JsonProps): string[] {
  if (typeof props !== 'object' || props === null) return ['props: must be an object'];
  const problems = [...checkUnknownProps(props, JSON_PROPS), ...validateFileProps(props)];
  if (props.set !== undefined && (typeof props.set !== 'object' || props.set === null || Array.isArray(props.set))) problems.push('set: must be an object of dotted path → value');
  if (props.remove !== undefined && (!Array.isArray(props.remove) || props.remove.some((r) => typeof r !== 'string' || r === ''))) problems.push('remove: must be a list of dotted paths');
  for (const [k, v] of Object.entries(props.set ?? {})) {
    if (k === '' || splitDottedPath(k).some((s) => s === '')) problems.push(`set.${k}: empty path segment`);
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint' || (typeof v === 'number' && !Number.isFinite(v))) problems.push(`set.${k}: not a JSON value`);
  }
  if (!Object.keys(props.set ?? {}).length && !(props.remove ?? []).length) problems.push('set/remove: give at least one member to set or remove');
  return problems;
}

/**
 * `json({ path, set, remove })`: format-preserving edits of a JSON file (e.g. repairing a CNI config): members are
 * set or removed, every other byte (indentation, key order, spacing) is kept. Strict JSON: comments are an error.
 *
 * @plan One `update PATH` (or `create PATH`) whose reason lists the edits (`set plugins.0.type = "bridge" (was
 * "ptp"); remove foo (was 1)`), and the unified diff; the no-op is `JSON already as wanted`. A file that is not JSON
 * or not UTF-8, or a missing one without `create`, is an error at plan time.
 *
 * @rollback Puts the file back byte for byte as it was before the run (from the journal's pre-image), or removes it
 * when the run created it. A file changed since the run is a conflict unless `--force`.
 *
 * @example
 * json({ path: '/etc/cni/net.d/10-bridge.conf', set: { 'ipam.subnet': '10.244.0.0/16' }, remove: ['ipam.gateway'] })
 */
export const json = defineModule<JsonProps>({
  name: 'json',
  validate: validateJson,
  facts: (props) => [{ kind: 'file', path: props.path, content: true }],
  plan(props: JsonProps, facts: HostFacts, ctx: TaskContext): PlanResult {
    const fact = facts.file(props.path);
    const original = readTextFact(fact, props.path, props.create);
    const text = fact.exists ? original : '{}\n';
    const tree = parseJsonTree(text, props.path);
    const edits: JsonEdit[] = [];
    const notes: string[] = [];
    const current = (p: JsonPath): unknown => { const n = findNodeAtLocation(tree, [...p]); return n ? getNodeValue(n) : undefined; };
    for (const [dotted, value] of Object.entries(props.set ?? {})) {
      const path = resolveJsonPath(tree, dotted);
      const was = current(path);
      edits.push({ set: path, value });
      if (!isDeepStrictEqual(was, value)) notes.push(`set ${dotted} = ${shown(value)}${was === undefined ? '' : ` (was ${shown(was)})`}`);
    }
    for (const dotted of props.remove ?? []) {
      const path = resolveJsonPath(tree, dotted);
      const was = current(path);
      edits.push({ remove: path });
      if (was !== undefined) notes.push(`remove ${dotted} (was ${shown(was)})`);
    }
    const out = editJson(text, edits, props.path);
    return planTextWrite({
      path: props.path, fact, text: out, reason: [...(fact.exists ? [] : ['create']), ...notes].join('; ') || 'attributes differ',
      noop: 'JSON already as wanted', mode: props.mode, owner: props.owner, group: props.group, ctx,
    });
  },
});
