import type { Command } from 'commander';
import { register as registerRun } from './run-commands.ts';
import { register as registerJournal } from './journal-commands.ts';
import { register as registerInventory } from './inventory-command.ts';

/** Report an exit code from a command: the CLI exits with the highest reported. */
export type SetExitCode = (code: number) => void;

/**
 * Each command lives in its own file under src/cli/commands/ and exports `register(program, setExitCode)`.
 * Add new commands to this list.
 */
export function registerCommands(program: Command, setExitCode: SetExitCode): void {
  registerRun(program, setExitCode);
  registerJournal(program, setExitCode);
  registerInventory(program, setExitCode);
}
