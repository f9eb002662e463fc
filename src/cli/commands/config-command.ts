import type { Command } from 'commander';
import { addRunOptions } from '../common-options.ts';
import { settingsFor } from '../effective-settings.ts';
import { PROJECT_SCHEMA } from '../project-config.ts';

const show = (v: unknown): string => (v === undefined ? '(unset)' : Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** `rig config`: the effective settings and where each came from (flag / env RIG_X / rig.yaml:line / default). */
export function register(program: Command): void {
  addRunOptions(program.command('config')
    .description('show the effective settings (project file rig.yaml, RIG_* environment, flags) and where each came from'))
    .action((_opts: unknown, cmd: Command) => {
      const { project, settings } = settingsFor(cmd);
      if ((cmd.opts() as { json?: boolean }).json) {
        process.stdout.write(JSON.stringify({ project: project?.file ?? null, root: project?.root ?? null,
          settings: settings.map((s) => (s.key === 'extra_vars' ? { ...s, value: Object.keys(s.value as object) } : s)) }, null, 2) + '\n');
        return;
      }
      const lines = [project ? `project: ${project.file}` : 'project: none (no rig.yaml here or above)'];
      const width = Math.max(...settings.map((s) => s.key.length));
      // Extra variables may hold secrets: their names only.
      for (const s of settings) lines.push(`${s.key.padEnd(width)}  ${s.key === 'extra_vars' ? `${Object.keys(s.value as object).join(', ') || '(none)'} (values not shown)` : show(s.value)}  [${s.source}]`);
      lines.push('', 'keys of rig.yaml:');
      for (const [k, d] of Object.entries(PROJECT_SCHEMA)) lines.push(`  ${k.padEnd(width)}  ${d.doc}${d.env ? ` (env ${d.env})` : ''}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
