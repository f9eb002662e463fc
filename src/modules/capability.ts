import { CapabilityError, RigError } from '../errors.ts';
import {
  checkFileCapabilities, describeCapabilityChange, formatCapabilities, parseCapabilities, uniteCapabilities,
} from '../text/file-capabilities.ts';
import { checkUnknownProps } from './file-write.ts';
import { defineModule } from './module.ts';

export interface CapabilityProps {
  /** Absolute path of a regular file (not a symlink: setcap refuses them; give the binary's real path). */
  readonly path: string;
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
 * Rollback puts the previous set back (none included). A missing file, a symlink or an unknown name is an error at
 * plan time.
 */
export const capability = defineModule<CapabilityProps>({
  name: 'capability',
  validate: (p) => {
    const problems = checkUnknownProps(p, ['path', 'capabilities', 'exact']);
    if (typeof p.path !== 'string' || !p.path.startsWith('/')) problems.push('path: an absolute path');
    problems.push(...checkCapabilityText(p.capabilities));
    if (p.exact !== undefined && typeof p.exact !== 'boolean') problems.push('exact: true or false');
    return problems;
  },
  facts: (p) => [{ kind: 'file', path: p.path, content: false }, { kind: 'capability', path: p.path }],
  plan: (p, facts, ctx) => {
    const fact = facts.file(p.path);
    if (!fact.exists) {
      throw new CapabilityError(`${p.path} does not exist: no binary to give capabilities to`, { task: ctx.taskPath, hint: 'install the program first, or point path at the binary' });
    }
    if (fact.type !== 'file') {
      throw new CapabilityError(`${p.path} is a ${fact.type}, not a regular file: setcap acts on regular files only`, {
        task: ctx.taskPath, hint: fact.type === 'symlink' ? `give the link's target (${fact.target ?? '?'}) as path` : 'point path at the binary',
      });
    }
    const current = parseCapabilities(facts.capability(p.path));
    const wanted = parseCapabilities(p.capabilities);
    const target = p.exact === false ? uniteCapabilities(current, wanted) : wanted;
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
  },
});
