/** `rig init [DIR]`: scaffold a project of its own that depends on rig (src/init/scaffold-project.ts). */
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { findRigInstallRoot } from '../../init/rig-install-root.ts';
import { scaffoldProject } from '../../init/scaffold-project.ts';

interface InitOptions { readonly rig?: string }

export function register(program: Command): void {
  program.command('init')
    .description('create a rig project in DIR (default: the current directory): rig.yaml, an inventory with group_vars, a playbook, a task group, a template, package.json and tsconfig.json; never overwrites a file')
    .argument('[dir]', 'project directory (created if missing)', '.')
    .option('--rig <spec>', 'the rig dependency written to package.json (default: file: of the running rig, or the spec its own project installed it with)')
    .action((dir: string, opts: InitOptions) => {
      const files = scaffoldProject(dir, { rigRoot: findRigInstallRoot(), ...(opts.rig ? { rigSpec: opts.rig } : {}) });
      const rel = relative(process.cwd(), resolve(dir));
      const shown = rel === '' ? '.' : rel.startsWith('..') ? resolve(dir) : rel;
      const cd = shown === '.' ? '' : `cd ${shown} && `;
      process.stdout.write([
        `created ${files.length} files in ${shown}:`, ...files.map((f) => `  ${f.path}`), '',
        'next:', `  ${cd}npm install     # rig, typescript, @types/node`,
        '  edit inventory/hosts.yaml and inventory/group_vars/all.yaml (your hosts; ssh_config in rig.yaml for an OpenSSH config)',
        '  npx rig plan playbooks/site.ts', '  npx tsc --noEmit', '',
      ].join('\n'));
    });
}
