import type { Command } from 'commander';

/** Report an exit code from a command: the CLI exits with the highest reported. */
export type SetExitCode = (code: number) => void;

/**
 * Each command lives in its own file under src/cli/commands/ and exports `register(program, setExitCode)`.
 * Add new commands to this list.
 */
export function registerCommands(program: Command, setExitCode: SetExitCode): void {
  void program; void setExitCode;
}
