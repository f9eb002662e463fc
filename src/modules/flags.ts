import { createHash } from 'node:crypto';
import type { Change } from '../core/change.ts';
import { checkMode, type ModeInput } from '../core/file-mode.ts';
import type { FileState } from '../core/file-state.ts';
import { ParseError, ValidationError } from '../errors.ts';
import type { FileFact, HostFacts } from '../facts/fact-request.ts';
import { getFileContent } from '../facts/file-content.ts';
import { checkFlagEdits, type FlagEdit, type FlagEditResult } from '../text/flag-edit-core.ts';
import { applyFlagFileEdits, shellFlagSyntax } from '../text/flag-file.ts';
import { applyManifestFlagEdits } from '../text/kubeadm-manifest-flags.ts';
import { applyDropinFlagEdits } from '../text/systemd-dropin-flags.ts';
import { checkUnknownProps } from './file-write.ts';
import { defineModule, type PlanResult, type TaskContext } from './module.ts';
import { hasAttributes, resolveAttributes } from './wanted-attributes.ts';

/** The kinds of file `flags` edits (see its `format` prop). */
export type FlagsFormat = 'default-file' | 'systemd-dropin' | 'kubeadm-manifest';

export interface FlagsProps {
  /** Absolute path of the file on the host, e.g. `/etc/default/kubelet`. */
  readonly path: string;
  /** Variable holding the flags, e.g. `KUBELET_OPTS` (default-file), `KUBELET_EXTRA_ARGS` (systemd-dropin). Required, except for kubeadm-manifest, which does not use it. */
  readonly variable?: string;
  /** Flags to set: name (`--k` or `k`) → value, or `true` for a bare flag. */
  readonly set?: Readonly<Record<string, string | true>>;
  /** Flags to remove (every occurrence). */
  readonly remove?: readonly string[];
  /**
   * The file's kind: a shell `VAR="--a=1 --b"` file (/etc/default), a systemd drop-in's `Environment="VAR=…"`, or
   * a kubeadm static-pod manifest's container `command` list. @default 'default-file'
   */
  readonly format?: FlagsFormat;
  /** Container whose `command` holds the flags (kubeadm-manifest). @default the first container */
  readonly container?: string;
  /** Keep the old assignment commented out above the new one. @default false */
  readonly keepOldCommented?: boolean;
  /** Create the file when it is absent (with just the wanted flags). @default false */
  readonly create?: boolean;
  /** File mode, an octal string ('0644') or number (0o644). @default existing mode, else '0644' */
  readonly mode?: ModeInput;
  /** Owner, a user name or numeric uid. @default existing owner, else 'root' */
  readonly owner?: string;
  /** Group, a group name or numeric gid. @default existing group, else 'root' */
  readonly group?: string;
}

const FORMATS: readonly FlagsFormat[] = ['default-file', 'systemd-dropin', 'kubeadm-manifest'];

/** Problems with the attributes common to file-writing modules (`path`, `mode`, `owner`, `group`, `create`). */
export function validateFileProps(props: { readonly path?: unknown; readonly mode?: unknown; readonly owner?: unknown; readonly group?: unknown; readonly create?: unknown }): string[] {
  const problems: string[] = [];
  if (typeof props.path !== 'string' || !props.path.startsWith('/')) problems.push('path: must be an absolute path');
  const modeProblem = props.mode === undefined ? undefined : checkMode(props.mode);
  if (modeProblem) problems.push(`mode: ${modeProblem}`);
  for (const k of ['owner', 'group'] as const) {
    if (props[k] !== undefined && (typeof props[k] !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(props[k] as string))) problems.push(`${k}: must be a user or group name`);
  }
  if (props.create !== undefined && typeof props.create !== 'boolean') problems.push('create: must be true or false');
  return problems;
}

/** The edits described by `set` and `remove`, in that order. */
export function flagEditsOf(props: Pick<FlagsProps, 'set' | 'remove'>): FlagEdit[] {
  return [
    ...Object.entries(props.set ?? {}).map(([name, value]) => ({ set: name, value })),
    ...(props.remove ?? []).map((name) => ({ remove: name })),
  ];
}

const FLAGS_PROPS = ['path', 'variable', 'set', 'remove', 'format', 'container', 'keepOldCommented', 'create', 'mode', 'owner', 'group'];

function validateFlags(props: FlagsProps): string[] {
  if (typeof props !== 'object' || props === null) return ['props: must be an object'];
  const problems = [...checkUnknownProps(props, FLAGS_PROPS), ...validateFileProps(props)];
  const format = props.format ?? 'default-file';
  if (!FORMATS.includes(format)) problems.push(`format: must be one of ${FORMATS.join(', ')}`);
  if (format !== 'kubeadm-manifest' && (typeof props.variable !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(props.variable))) {
    problems.push('variable: must be a shell variable name such as KUBELET_OPTS');
  }
  if (props.set !== undefined && (typeof props.set !== 'object' || props.set === null || Array.isArray(props.set))) problems.push('set: must be an object of flag → value');
  else for (const [k, v] of Object.entries(props.set ?? {})) if (v !== true && typeof v !== 'string') problems.push(`set.${k}: must be a string or true`);
  if (props.remove !== undefined && (!Array.isArray(props.remove) || props.remove.some((r) => typeof r !== 'string'))) problems.push('remove: must be a list of flag names');
  if (!problems.length) {
    const edits = flagEditsOf(props);
    if (!edits.length) problems.push('set/remove: give at least one flag to set or remove');
    const syntax = format === 'default-file' ? shellFlagSyntax() : { splitsOnWhitespace: format !== 'kubeadm-manifest' };
    problems.push(...checkFlagEdits(edits, syntax).map((p) => `${p.startsWith('flag ') ? 'set/remove' : 'flags'}: ${p}`));
  }
  for (const k of ['keepOldCommented'] as const) if (props[k] !== undefined && typeof props[k] !== 'boolean') problems.push(`${k}: must be true or false`);
  return problems;
}

/** The text of a gathered file fact, '' for an absent file when `create`; errors say how to fix. */
export function readTextFact(fact: FileFact, path: string, create: boolean | undefined): string {
  if (!fact.exists) {
    if (create) return '';
    throw new ValidationError([`path: ${path} does not exist on the host`], { file: path, hint: 'create the file first (or set create: true), or fix the path' });
  }
  if (fact.type !== 'file') throw new ValidationError([`path: ${path} is a ${fact.type}, not a regular file`], { file: path, hint: 'point path at a regular file' });
  const content = getFileContent(fact, path);
  try { return new TextDecoder('utf-8', { fatal: true }).decode(content); } catch (cause) {
    throw new ParseError(`${path} is not UTF-8 text`, { file: path, cause, hint: 'convert the file to UTF-8 or replace it with the file module' });
  }
}

/**
 * Plan writing `text` to `path`: a write-file Change when the content (or the given mode/owner/group) differs,
 * else a noop. `before` is the gathered state; `after` keeps mode/owner/group unless given.
 */
export function planTextWrite(options: {
  readonly path: string; readonly fact: FileFact; readonly text: string; readonly reason: string; readonly noop: string;
  readonly mode?: ModeInput | undefined; readonly owner?: string | undefined; readonly group?: string | undefined; readonly ctx: TaskContext;
}): PlanResult {
  const { path, fact, text, ctx } = options;
  const { content: _content, ...before } = fact;
  const bytes = Buffer.from(text, 'utf8');
  const { mode, owner, group } = resolveAttributes(fact, options, '0644');
  const after: FileState = {
    exists: true, type: 'file', mode, owner, group,
    sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length,
  };
  const sameContent = fact.exists && getFileContent(fact, path).equals(bytes);
  const sameAttrs = hasAttributes(fact, { mode, owner, group });
  if (sameContent && sameAttrs) return { noop: options.noop };
  if (sameContent) {
    const change: Change = { kind: 'set-attributes', task: ctx.taskPath, reason: 'attributes differ', path, before, after: { ...before, mode, owner, group } };
    return { changes: [change] };
  }
  const change: Change = {
    kind: 'write-file', task: ctx.taskPath, reason: options.reason, path, before: fact.exists ? before : { exists: false }, after,
    content: bytes.toString('base64'), secret: false,
  };
  return { changes: [change] };
}

function applyEdits(text: string, edits: readonly FlagEdit[], props: FlagsProps): FlagEditResult {
  const common = { file: props.path, ...(props.keepOldCommented !== undefined ? { keepOldCommented: props.keepOldCommented } : {}) };
  switch (props.format ?? 'default-file') {
    case 'default-file': return applyFlagFileEdits(text, edits, { ...common, variable: props.variable! });
    case 'systemd-dropin': return applyDropinFlagEdits(text, edits, { ...common, variable: props.variable! });
    case 'kubeadm-manifest': return applyManifestFlagEdits(text, edits, { ...common, ...(props.container ? { container: props.container } : {}) });
  }
}

/**
 * `flags({ path, variable, set, remove })`: set, add or remove daemon flags in an `/etc/default` file, a systemd
 * drop-in or a kubeadm manifest, keeping every other byte. The file must be UTF-8 text.
 *
 * @plan One `update PATH` whose reason lists the flag edits (`set --insecure-bind-address=127.0.0.1 (was 0.0.0.0);
 * add --kubeconfig=/root/.kube/config; remove --foo`), and the unified diff; the no-op is `flags already as wanted`.
 * A variable that is not in the file yet is appended. A missing file (without `create`), a line that does not parse
 * (an unterminated quote) or a manifest without the container is an error at plan time.
 *
 * @rollback Puts the file back byte for byte as it was before the run (from the journal's pre-image), or removes it
 * when the run created it. A file changed since the run is a conflict unless `--force`.
 *
 * @example
 * flags({ path: '/etc/default/kubelet', variable: 'KUBELET_OPTS',
 *   set: { '--read-only-port': '0', '--rotate-certificates': true }, remove: ['--insecure-port'] },
 *   { notify: 'restart kubelet' })
 *
 * @example
 * flags({ path: '/etc/kubernetes/manifests/kube-apiserver.yaml', format: 'kubeadm-manifest',
 *   set: { '--profiling': 'false' } })
 */
export const flags = defineModule<FlagsProps>({
  name: 'flags',
  validate: validateFlags,
  facts: (props) => [{ kind: 'file', path: props.path, content: true }],
  plan(props: FlagsProps, facts: HostFacts, ctx: TaskContext): PlanResult {
    const fact = facts.file(props.path);
    const text = readTextFact(fact, props.path, props.create);
    const result = applyEdits(text, flagEditsOf(props), props);
    return planTextWrite({
      path: props.path, fact, text: result.text, reason: result.notes.join('; ') || 'attributes differ', noop: 'flags already as wanted',
      mode: props.mode, owner: props.owner, group: props.group, ctx,
    });
  },
});
