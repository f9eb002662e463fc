import type { Command } from 'commander';
import { getModuleReference } from '../../help/find-module-reference.ts';
import { loadModuleReference } from '../../help/load-module-reference.ts';
import { renderModuleList, renderModulePage } from '../../help/render-module-page.ts';

/**
 * `rig help [COMMAND|MODULE]`: with no argument the command help followed by the list of modules; with a command's
 * name that command's help; with a module's name (`file`, `ca-certificate`, or its factory `caCertificate`) the
 * module's reference page, the same text as docs/modules/<module>.md; anything else is an error naming the nearest
 * modules. Replaces commander's built-in `help` command.
 */
export function register(program: Command): void {
  program.helpCommand(false);
  program.command('help [topic]')
    .description('show the help of a command, or the reference of a module (its props, plan, rollback, example); no argument: list the modules')
    .action(async (topic: string | undefined) => {
      const MODULE_REFERENCE = await loadModuleReference();
      if (topic === undefined) {
        process.stdout.write(`${program.helpInformation()}\n${renderModuleList(MODULE_REFERENCE)}\n`);
        return;
      }
      const cmd = program.commands.find((c) => c.name() === topic || c.aliases().includes(topic));
      if (cmd) {
        process.stdout.write(cmd.helpInformation());
        return;
      }
      process.stdout.write(renderModulePage(getModuleReference(topic, MODULE_REFERENCE.modules), MODULE_REFERENCE.taskOptions));
    });
}
