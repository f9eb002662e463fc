import type { Change } from '../core/change.ts';
import { ValidationError } from '../errors.ts';
import { checkUnknownProps } from './file-write.ts';
import { defineModule } from './module.ts';

export interface ServiceProps {
  /** Service name as the init system knows it, e.g. `nginx`, `kubelet`, `getty@tty1`. */
  readonly name: string;
  /** started/stopped converge; restarted/reloaded always act (use them in handlers). A reload or restart of a stopped service starts it. */
  readonly state: 'started' | 'stopped' | 'restarted' | 'reloaded';
  /** Validate before acting, e.g. ['nginx', '-t']: on failure the files written in the same play are put back. */
  readonly validate?: readonly string[];
}

const STATES = ['started', 'stopped', 'restarted', 'reloaded'];

/**
 * `service({ name, state })`: start, stop, restart or reload a service through the host's init system (systemd,
 * sysv `service`, upstart, openrc — from the gathered OS facts). Mostly used as a handler, run once at the end of the
 * play when a task that notified it changed something.
 *
 * @plan `start service NAME (systemd)` (or stop / restart / reload) with the reason (`not running`, `restart
 * requested`); the no-op says `NAME is running` or `NAME is stopped`. A service the init system does not know is an
 * error at plan time.
 *
 * @rollback Runs the action again once the files are back — after a restart or reload, the same action (so the
 * service picks up the restored files); a start of a service that was stopped becomes a stop, a stop of a running
 * one a start. Only when the rollback restores something.
 *
 * @example
 * service({ name: 'nginx', state: 'reloaded', validate: ['nginx', '-t'] })
 */
export const service = defineModule<ServiceProps>({
  name: 'service',
  validate: (p) => {
    const problems = checkUnknownProps(p, ['name', 'state', 'validate']);
    if (typeof p.name !== 'string' || !/^[\w@.:-]+$/.test(p.name)) problems.push('name: a service name');
    if (!STATES.includes(p.state)) problems.push(`state: one of ${STATES.join(', ')}`);
    if (p.validate !== undefined && !(Array.isArray(p.validate) && p.validate.length && p.validate.every((x) => typeof x === 'string'))) problems.push('validate: a non-empty array of strings');
    return problems;
  },
  facts: (p) => [{ kind: 'service', name: p.name }],
  plan: (p, facts, ctx) => {
    const s = facts.service(p.name);
    if (!s.exists) throw new ValidationError([`service ${p.name} is not known to ${facts.os.init} on this host`], { task: ctx.taskPath, hint: 'install it first (package task) or check the name' });
    const base = { kind: 'service' as const, service: p.name, init: facts.os.init, wasRunning: s.running, task: ctx.taskPath, ...(p.validate ? { validate: p.validate } : {}) };
    let change: Change | undefined;
    switch (p.state) {
      case 'started': if (!s.running) change = { ...base, action: 'start', reason: 'not running' }; break;
      case 'stopped': if (s.running) change = { ...base, action: 'stop', reason: 'running' }; break;
      case 'restarted': change = { ...base, action: s.running ? 'restart' : 'start', reason: 'restart requested' }; break;
      case 'reloaded': change = { ...base, action: s.running ? 'reload' : 'start', reason: 'reload requested' }; break;
    }
    return change ? { changes: [change] } : { noop: `${p.name} is ${s.running ? 'running' : 'stopped'}` };
  },
});
