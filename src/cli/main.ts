import { Command, CommanderError } from 'commander';
import { isRigError, RigError } from '../errors.ts';
import { redactText } from '../core/secret.ts';
import { registerCommands } from './commands/index.ts';
import { StopSignal } from '../engine/stop-signal.ts';
import { INTERRUPTED_EXIT_CODE } from './interrupted-exit-code.ts';
import { errorToJson, jsonResult } from './json-result.ts';
import { applyProjectSettings } from './effective-settings.ts';
import { writeNotice } from './terminal-notice.ts';

/**
 * SIGINT/SIGTERM: during apply or rollback the first one stops gracefully (start nothing new, each host finishes
 * its step in flight, locks released, run journaled `interrupted`); a second one journals the run and exits at once.
 * Any other command exits at once.
 */
function installSignalHandlers(stop: StopSignal): () => void {
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stop.graceful && !stop.requested) {
      writeNotice(`\n${sig}: stopping after the steps in flight; nothing new starts (${sig} again to stop at once)\n`);
      stop.request();
      return;
    }
    const journaled = stop.force() > 0;
    process.stderr.write(`\n${sig}: stopped at once${!stop.graceful ? '' : journaled ? '; the run is journaled as interrupted (see `rig log`)'
      : ' before anything was applied (nothing journaled); hosts already locked keep this run\'s lock: --break-lock clears it'}\n`);
    process.exit(INTERRUPTED_EXIT_CODE);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => { process.removeListener('SIGINT', onSignal); process.removeListener('SIGTERM', onSignal); };
}

/** `--json` among the options (before a `--`), whether or not the command line parses. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * Exit codes: see src/cli/exit-codes.ts and the table in docs/json.md (0 nothing to change / done, 1 error,
 * 2 plan has changes, 3/4 plan with unreachable hosts, 130 interrupted). Only this file calls process.exit.
 * With `--json`, stdout holds exactly one JSON object: the command's result, or an error result written here.
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
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      if (wantsJson(argv)) writeJsonError(argv, { code: 'USAGE', message: e.message.replace(/^error: /, ''), where: {} }, 1);
      return 1;
    }
    printError(e);
    const code = stop.requested ? INTERRUPTED_EXIT_CODE : 1;
    if (wantsJson(argv)) writeJsonError(argv, errorToJson(e), code);
    return code;
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

function writeJsonError(argv: readonly string[], error: ReturnType<typeof errorToJson>, exitCode: number): void {
  const command = argv.find((a) => !a.startsWith('-'));
  jsonResult.write({ ...(command ? { command } : {}), exitCode, error });
}

function printError(e: unknown): void {
  process.stderr.write(formatError(e) + '\n');
}

export { RigError };
