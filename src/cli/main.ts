import { Command, CommanderError } from 'commander';
import { isRigError, RigError } from '../errors.ts';
import { redactText } from '../core/secret.ts';
import { registerCommands } from './commands/index.ts';

/**
 * Exit codes: 0 success (plan: nothing to change), 2 plan has changes (plan -detailed-exitcode style),
 * 1 any error or failed/unreachable host. Only this file calls process.exit.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('rig')
    .description('Provisioning orchestrator over SSH: TypeScript playbooks, plan → diff → apply, reversible changelog')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  let exitCode = 0;
  registerCommands(program, (code) => { exitCode = Math.max(exitCode, code); });
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    printError(e);
    return 1;
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
