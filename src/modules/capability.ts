import { dirname } from 'node:path';
import { CapabilityError, RigError } from '../errors.ts';
import {
  CAPABILITY_NAMES, checkFileCapabilities, describeCapabilityChange, formatCapabilities, parseCapabilities, uniteCapabilities,
} from '../text/file-capabilities.ts';
import { checkUnknownProps } from './file-write.ts';
import { defineModule, type PlanResult, type TaskContext } from './module.ts';
import type { FactRequest, FileFact, HostFacts } from '../facts/fact-request.ts';

export interface CapabilityProps {
  /** Absolute path of a regular file (not a symlink: setcap refuses them; give the binary's real path). */
  readonly path?: string;
  /** Without `path`: the first of these paths that exists on the host (e.g. where packages put nginx). */
  readonly candidates?: readonly string[];
  /**
   * The file capabilities, as setcap and getcap write them: `cap_net_bind_service=ep`, `cap_net_bind_service+ep`,
   * several clauses (`cap_net_admin,cap_net_raw=ep`). '' = none.
   */
  readonly capabilities: string;
  /**
   * true: the file has exactly these capabilities (others removed). false: at least these (others kept; flags united).
   * @default true
   */
  readonly exact?: boolean;
}

/** Problems with the capability text of `prop`, or []. */
function checkCapabilityText(text: unknown): string[] {
  if (typeof text !== 'string') return ['capabilities: a string such as cap_net_bind_service=ep (\'\' = none)'];
  try {
    const why = checkFileCapabilities(parseCapabilities(text));
    return why ? [`capabilities: ${why}`] : [];
  } catch (e) {
    if (e instanceof RigError) return [`capabilities: ${e.message}`];
    throw e;
  }
}

/**
 * `capability({ path, capabilities: 'cap_net_bind_service=ep' })`: a file has exactly (or, with `exact: false`, at
 * least) these file capabilities. Read with getcap, set with setcap, removed with `setcap -r`; compared in one
 * canonical form (src/text/file-capabilities.ts), so a converged run plans nothing whatever form getcap printed.
 * A missing file, a symlink, a file or directory that a user other than root could replace, or a capability the
 * host's kernel does not know is an error at plan time.
 *
 * @plan `capabilities PATH: none → cap_net_bind_service=ep` with the reason (`add cap_net_bind_service=ep`); the no-op
 * says `PATH has cap_net_bind_service=ep` (or no capabilities).
 *
 * @rollback Puts the previous set back (none included: `setcap -r`). A file whose capabilities changed since the run
 * is a conflict unless `--force`.
 *
 * @example
 * capability({ candidates: ['/usr/sbin/nginx', '/usr/local/nginx/sbin/nginx'], capabilities: 'cap_net_bind_service=ep' })
 */
export const capability = defineModule<CapabilityProps>({
  name: 'capability',
  validate: (p) => {
    const problems = checkUnknownProps(p, ['path', 'candidates', 'capabilities', 'exact']);
    if (p.path !== undefined && (typeof p.path !== 'string' || !p.path.startsWith('/'))) problems.push('path: an absolute path');
    if (p.candidates !== undefined && !(Array.isArray(p.candidates) && p.candidates.length > 0 && p.candidates.every((c) => typeof c === 'string' && c.startsWith('/')))) problems.push('candidates: a non-empty list of absolute paths');
    if ((p.path === undefined) === (p.candidates === undefined)) problems.push('path or candidates: give exactly one');
    problems.push(...checkCapabilityText(p.capabilities));
    if (p.exact !== undefined && typeof p.exact !== 'boolean') problems.push('exact: true or false');
    return problems;
  },
  facts: (p): FactRequest[] => [
    ...pathsOf(p).flatMap((path): FactRequest[] => [
      { kind: 'file', path, content: false }, { kind: 'file', path: dirname(path), content: false }, { kind: 'capability', path },
    ]),
    { kind: 'command', key: LAST_CAP_KEY, argv: ['cat', '/proc/sys/kernel/cap_last_cap'] },
  ],
  plan: (p, facts, ctx) => {
    const paths = pathsOf(p);
    const path = paths.find((x) => facts.file(x).exists);
    if (path === undefined) {
      throw new CapabilityError(paths.length === 1 ? `${paths[0]} does not exist: no binary to give capabilities to` : `none of ${paths.join(', ')} exists: no binary to give capabilities to`,
        { task: ctx.taskPath, hint: 'install the program first, or point path at the binary' });
    }
    return planCapability({ ...p, path }, facts, ctx);
  },
});

/** The paths a task may act on: its path, or its candidates in order. */
function pathsOf(p: CapabilityProps): readonly string[] {
  return p.path !== undefined ? [p.path] : p.candidates ?? [];
}

const LAST_CAP_KEY = 'kernel-cap-last-cap';
const isRootOwned = (f: FileFact): boolean => (f.uid !== undefined ? f.uid === 0 : f.owner === 'root' || f.owner === '0');

/** Plan one existing path: canonical current set vs the wanted (or united) set. */
function planCapability(p: CapabilityProps & { readonly path: string }, facts: HostFacts, ctx: TaskContext): PlanResult {
  const fact = facts.file(p.path);
  if (fact.type !== 'file') {
    throw new CapabilityError(`${p.path} is a ${fact.type}, not a regular file: setcap acts on regular files only`, {
      task: ctx.taskPath, hint: fact.type === 'symlink' ? `give the link's target (${fact.target ?? '?'}) as path` : 'point path at the binary',
    });
  }
  // Capabilities on a file another user can replace (or swap in its directory) would be theirs: refused.
  for (const [what, f] of [[p.path, fact], [dirname(p.path), facts.file(dirname(p.path))]] as const) {
    if (f.exists && (!isRootOwned(f) || (parseInt(f.mode ?? '0', 8) & 0o022) !== 0)) {
      throw new CapabilityError(`${what} is ${f.owner}:${f.group} ${f.mode}: another user could replace ${p.path} and get its capabilities`, {
        task: ctx.taskPath, hint: `make ${what} owned by root and not writable by group or others`,
      });
    }
  }
  const current = parseCapabilities(facts.capability(p.path));
  const wanted = parseCapabilities(p.capabilities);
  const target = p.exact === false ? uniteCapabilities(current, wanted) : wanted;
  // Names come from capability(7); the host's kernel may be older than the list (cap_bpf is Linux 5.8).
  const lastCap = facts.command(LAST_CAP_KEY);
  const newest = lastCap.exitCode === 0 && /^\d+$/.test(lastCap.stdout.trim()) ? Number(lastCap.stdout.trim()) : undefined;
  const unsupported = newest === undefined ? [] : [...wanted.keys()].filter((n) => CAPABILITY_NAMES.indexOf(n) > newest);
  if (unsupported.length) {
    throw new CapabilityError(`${unsupported.join(', ')}: not supported by the host's kernel (its last capability is ${CAPABILITY_NAMES[newest!] ?? newest})`, { task: ctx.taskPath });
  }
  const why = checkFileCapabilities(target);
  if (why) throw new CapabilityError(`${p.path}: ${why}`, { task: ctx.taskPath, hint: 'use exact: true to replace the file\'s other capabilities' });
  const beforeCaps = formatCapabilities(current);
  const afterCaps = formatCapabilities(target);
  if (beforeCaps === afterCaps) return { noop: afterCaps ? `${p.path} has ${afterCaps}` : `${p.path} has no capabilities` };
  return {
    changes: [{
      kind: 'set-capability', path: p.path, beforeCaps, afterCaps, task: ctx.taskPath,
      reason: describeCapabilityChange(beforeCaps, afterCaps),
    }],
  };
}
