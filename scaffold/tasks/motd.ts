/**
 * A task group: a function returning tasks, so playbooks can share it (and pass it options). Tasks are plain data
 * built by module factories imported from 'rig'; props may be a function of the host's context (its vars, groups).
 */
import { directory, file, template, type Task } from 'rig';

export interface MotdOptions {
  /** Where the managed files go. @default '/etc/rig-example' */
  readonly dir?: string;
}

export function motdTasks(options: MotdOptions = {}): Task[] {
  const dir = options.dir ?? '/etc/rig-example';
  return [
    directory({ path: dir, mode: '0755' }, { name: 'example directory' }),
    file((ctx) => ({ path: `${dir}/team`, content: `${String(ctx.vars['motd_team'])}\n`, mode: '0644' }), { name: 'team file' }),
    template({ src: 'motd.hbs', path: `${dir}/motd`, mode: '0644' }, { name: 'motd', tags: ['motd'] }),
  ];
}
