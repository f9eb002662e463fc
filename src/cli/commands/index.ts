import type { Command } from 'commander';
import type { StopSignal } from '../../engine/stop-signal.ts';
import { register as registerRun } from './run-commands.ts';
import { register as registerJournal } from './journal-commands.ts';
import { register as registerInventory } from './inventory-command.ts';
import { register as registerPrune } from './prune-command.ts';
import { register as registerConfig } from './config-command.ts';
import { register as registerInit } from './init-command.ts';
import { register as registerHelp } from './help-command.ts';

/** Report an exit code from a command: the CLI exits with the highest reported. */
export type SetExitCode = (code: number) => void;

/**
 * Each command lives in its own file under src/cli/commands/ and exports `register(program, setExitCode, stop)`;
 * `stop` is the process's SIGINT/SIGTERM state (apply and rollback stop gracefully on it).
 * Add new commands to this list.
 */
export function registerCommands(program: Command, setExitCode: SetExitCode, stop: StopSignal): void {
  registerRun(program, setExitCode, stop);
  registerJournal(program, setExitCode, stop);
  registerInventory(program, setExitCode);
  registerPrune(program, setExitCode);
  registerConfig(program);
  registerInit(program);
  registerHelp(program);
}
