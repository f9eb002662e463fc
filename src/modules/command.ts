import type { Change } from '../core/change.ts';
import { checkUnknownProps } from './file-write.ts';
import { defineModule } from './module.ts';

export interface CommandProps {
  /** The command as an argument array (never a shell string). */
  readonly argv: readonly string[];
  /** Skip when this path exists. */
  readonly creates?: string;
  /** Skip when this path does not exist. */
  readonly removes?: string;
  /** Skip when this command exits 0 (read-only check, run at gather time). */
  readonly unless?: readonly string[];
  readonly cwd?: string;
  /** argv run by `rig rollback`. Without it the command is not undone. */
  readonly undo?: readonly string[];
}

const isArgv = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');
const unlessKey = (argv: readonly string[]): string => `unless:${JSON.stringify(argv)}`;

/** `command({ argv, creates })`: run a command, idempotent through creates / removes / unless. */
export const command = defineModule<CommandProps>({
  name: 'command',
  validate: (p) => {
    const problems = checkUnknownProps(p, ['argv', 'creates', 'removes', 'unless', 'cwd', 'undo']);
    if (!isArgv(p.argv)) problems.push('argv: a non-empty array of strings');
    if (p.unless !== undefined && !isArgv(p.unless)) problems.push('unless: a non-empty array of strings');
    if (p.undo !== undefined && !isArgv(p.undo)) problems.push('undo: a non-empty array of strings');
    for (const k of ['creates', 'removes', 'cwd'] as const) if (p[k] !== undefined && (typeof p[k] !== 'string' || !p[k]!.startsWith('/'))) problems.push(`${k}: an absolute path`);
    return problems;
  },
  facts: (p) => [
    ...(p.creates ? [{ kind: 'file' as const, path: p.creates, content: false }] : []),
    ...(p.removes ? [{ kind: 'file' as const, path: p.removes, content: false }] : []),
    ...(p.unless ? [{ kind: 'command' as const, key: unlessKey(p.unless), argv: p.unless }] : []),
  ],
  plan: (p, facts, ctx) => {
    if (p.creates && facts.file(p.creates).exists) return { noop: `${p.creates} exists (creates)` };
    if (p.removes && !facts.file(p.removes).exists) return { noop: `${p.removes} is absent (removes)` };
    if (p.unless && facts.command(unlessKey(p.unless)).exitCode === 0) return { noop: `${p.unless.join(' ')} succeeded (unless)` };
    const guard = p.creates ? `${p.creates} absent` : p.removes ? `${p.removes} present` : p.unless ? `${p.unless.join(' ')} failed` : 'no creates/removes/unless guard';
    const c: Change = { kind: 'run-command', argv: p.argv, ...(p.cwd ? { cwd: p.cwd } : {}), ...(p.undo ? { undo: p.undo } : {}), task: ctx.taskPath, reason: guard };
    return { changes: [c] };
  },
});
