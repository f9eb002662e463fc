import { Command, CommanderError } from 'commander';
import { isRigError, RigError } from '../errors.ts';
import { redactText } from '../core/secret.ts';
import { registerCommands } from './commands/index.ts';
import { StopSignal } from '../engine/stop-signal.ts';
import { INTERRUPTED_EXIT_CODE } from './interrupted-exit-code.ts';
import { applyProjectSettings } from './effective-settings.ts';

/**
 * SIGINT/SIGTERM: during apply or rollback the first one stops gracefully (start nothing new, each host finishes
 * its step in flight, locks released, run journaled `interrupted`); a second one journals the run and exits at once.
 * Any other command exits at once.
 */
function installSignalHandlers(stop: StopSignal): () => void {
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stop.graceful && !stop.requested) {
      process.stderr.write(`\n${sig}: stopping after the steps in flight; nothing new starts (${sig} again to stop at once)\n`);
      stop.request();
      return;
    }
    stop.force();
    process.stderr.write(`\n${sig}: stopped at once${stop.graceful ? '; the run is journaled as interrupted (see `rig log`)' : ''}\n`);
    process.exit(INTERRUPTED_EXIT_CODE);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => { process.removeListener('SIGINT', onSignal); process.removeListener('SIGTERM', onSignal); };
}

/**
 * Exit codes: 0 success (plan: nothing to change), 2 plan has changes (plan -detailed-exitcode style),
 * 1 any error or failed/unreachable host, 130 interrupted (SIGINT/SIGTERM). Only this file calls process.exit.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('rig')
    .description('Provisioning orchestrator over SSH: TypeScript playbooks, plan → diff → apply, reversible changelog')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  // Project file (rig.yaml) and RIG_* environment: applied to every command's options in this one place.
  program.hook('preAction', (_program, actionCommand) => { applyProjectSettings(actionCommand); });
  let exitCode = 0;
  const stop = new StopSignal();
  registerCommands(program, (code) => { exitCode = Math.max(exitCode, code); }, stop);
  const uninstall = installSignalHandlers(stop);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return stop.requested ? INTERRUPTED_EXIT_CODE : exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    printError(e);
    return stop.requested ? INTERRUPTED_EXIT_CODE : 1;
  } finally {
    uninstall();
  }
}

export function formatError(e: unknown): string {
  if (isRigError(e)) {
    const where = e.describeWhere();
    const lines = [`error[${e.code}]${where ? ` ${where}` : ''}: ${e.message}`];
    if (e.hint) lines.push(`  hint: ${e.hint}`);
    return redactText(lines.join('\n'));
  }
  const err = e as Error;
  return redactText(`error[INTERNAL]: ${err?.stack ?? String(e)}`);
}

function printError(e: unknown): void {
  process.stderr.write(formatError(e) + '\n');
}

export { RigError };
