import { PlaybookError } from '../errors.ts';
import type { Host } from '../inventory/types.ts';
import type { HostPlan, PlayInfo } from './plan-types.ts';

/**
 * Who a host's round trips run as. A play's tasks run on a host in ONE script, so become is decided per host and
 * play: the play's `become` (true when any of its tasks or handlers says `become: true`), else the host's
 * `ansible_become`. A rollback plan carries the decision per host (HostPlan.become).
 */
export function playBecomes(play: Pick<PlayInfo, 'become'>, host: Host, hostPlan?: Pick<HostPlan, 'become'>): boolean {
  return hostPlan?.become ?? play.become ?? host.become ?? false;
}

/**
 * Become for the round trips that serve every play of a host: the gather (it reads what the tasks will write, as
 * the tasks will), the lock and its release. True when any play of the host becomes.
 */
export function hostBecomes(plays: readonly PlayInfo[], host: Host, hostPlan?: Pick<HostPlan, 'become'>): boolean {
  if (hostPlan?.become !== undefined) return hostPlan.become;
  const mine = plays.filter((p) => p.hostNames.includes(host.name));
  return mine.length ? mine.some((p) => playBecomes(p, host)) : host.become === true;
}

/** A play's become from its own and its tasks' (`become: true` on one task makes the play's script use sudo). */
export function resolvePlayBecome(playBecome: boolean | undefined, tasks: readonly { readonly become?: boolean }[]): boolean | undefined {
  return tasks.some((t) => t.become === true) ? true : playBecome;
}

/**
 * A task with `become: false` in a play whose script runs with sudo on this host cannot be honoured (one script per
 * host and play): refused rather than run as root.
 */
export function checkTaskBecome(play: PlayInfo, host: Host, tasks: readonly { readonly become?: boolean; readonly name?: string }[]): void {
  if (!playBecomes(play, host)) return;
  const t = tasks.find((x) => x.become === false);
  if (!t) return;
  throw new PlaybookError(`play ${play.index + 1} "${play.name}": task ${t.name ? `"${t.name}" ` : ''}sets become: false, but the play runs with sudo on ${host.name}`, {
    host: host.name,
    hint: 'rig runs a play\'s tasks on a host in one script: move the task to a play without become (and set ansible_become: false for it), or drop become: false',
  });
}
