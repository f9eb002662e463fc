import type { Change } from '../core/change.ts';
import { checkUnknownProps } from './file-write.ts';
import { defineModule } from './module.ts';

export interface CommandProps {
  /** The command as an argument array (never a shell string); run with the task's `become`. */
  readonly argv: readonly string[];
  /** Skip when this absolute path exists on the host (e.g. what the command creates). */
  readonly creates?: string;
  /** Skip when this absolute path does not exist on the host. */
  readonly removes?: string;
  /** Skip when this command exits 0. It runs at gather time, on every plan: it must only read. */
  readonly unless?: readonly string[];
  /** Absolute working directory for `argv` (and `undo`). @default unset: the directory is unspecified, do not rely on it */
  readonly cwd?: string;
  /** argv run by `rig rollback` when the command ran. Without it the command is not undone. */
  readonly undo?: readonly string[];
}

const isArgv = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');
const unlessKey = (argv: readonly string[]): string => `unless:${JSON.stringify(argv)}`;

/**
 * `command({ argv, creates })`: run a command, idempotent through `creates` / `removes` / `unless`. Without any of
 * them the command runs on every apply. A non-zero exit fails the host.
 *
 * @plan `run ARGV` with the reason it runs (`/usr/local/bin/app absent`, `… failed (unless)`, or `no
 * creates/removes/unless guard`); the no-op names the guard that holds (`/x exists (creates)`).
 *
 * @rollback Runs `undo` (in `cwd`) when the command ran in the run being rolled back; without `undo` nothing.
 *
 * @example
 * command({ argv: ['tar', '-xzf', '/opt/app.tgz', '-C', '/opt/app'], creates: '/opt/app/bin/app',
 *   undo: ['rm', '-rf', '--', '/opt/app/bin'] })
 */
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
