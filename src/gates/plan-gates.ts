import { isRigError, PlaybookError, ValidationError } from '../errors.ts';
import { checkUnknownProps } from '../modules/file-write.ts';
import type { TaskContext } from '../modules/module.ts';
import type { PlayDefinition } from '../playbook/types.ts';
import type { GateCheck, GateInput, GateProps, PlannedGate } from './gate-types.ts';

const URL_RE = /^https?:\/\/[^\s/]+(\/\S*)?$/;

/** Every problem with one gate check, each prefixed with `prefix`. */
function checkProblems(c: GateCheck, from: 'host' | 'controller', prefix: string): string[] {
  if (typeof c !== 'object' || c === null) return [`${prefix}: an object with a kind`];
  const p: string[] = [];
  switch (c.kind) {
    case 'apiserver':
      p.push(...checkUnknownProps(c, ['kind', 'url', 'kubeconfig', 'caFile', 'clientCert', 'clientKey', 'path']));
      if ((c.url === undefined) === (c.kubeconfig === undefined)) p.push('give exactly one of url or kubeconfig');
      if (c.url !== undefined && !URL_RE.test(c.url)) p.push(`url: an http(s) URL (got ${JSON.stringify(c.url)})`);
      if (c.kubeconfig !== undefined && from !== 'controller') p.push("kubeconfig: read on the controller only (from: 'controller'), or give url + caFile/clientCert/clientKey");
      if ((c.clientCert === undefined) !== (c.clientKey === undefined)) p.push('clientCert and clientKey go together');
      if (c.path !== undefined && !['auto', '/readyz', '/healthz'].includes(c.path)) p.push("path: 'auto', '/readyz' or '/healthz'");
      break;
    case 'agent':
      p.push(...checkUnknownProps(c, ['kind', 'service', 'log', 'healthUrl', 'server']));
      if (typeof c.service !== 'string' || !/^[A-Za-z0-9_.@-]+$/.test(c.service)) p.push('service: a service name');
      if (c.log !== undefined && c.healthUrl !== undefined) p.push('give log or healthUrl, not both');
      if (c.healthUrl !== undefined && !URL_RE.test(c.healthUrl)) p.push('healthUrl: an http(s) URL');
      if (c.log !== undefined && !c.log.startsWith('/')) p.push('log: an absolute path');
      if (from !== 'host') p.push("the agent's log or health endpoint is read on the host: from: 'host'");
      break;
    case 'tcp':
      p.push(...checkUnknownProps(c, ['kind', 'host', 'port', 'open']));
      if (typeof c.host !== 'string' || !/^[A-Za-z0-9_.:-]+$/.test(c.host)) p.push('host: a host name or address');
      if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) p.push('port: 1..65535');
      break;
    case 'command':
      p.push(...checkUnknownProps(c, ['kind', 'argv']));
      if (!Array.isArray(c.argv) || !c.argv.length || c.argv.some((a) => typeof a !== 'string')) p.push('argv: a non-empty list of strings');
      break;
    default:
      p.push(`kind: one of apiserver, agent, tcp, command (got ${JSON.stringify((c as { kind?: unknown }).kind)})`);
  }
  return p.map((s) => `${prefix}.${s}`);
}

/** Every problem with a gate's props (validation collects them all, like a module's). */
export function validateGate(g: GateProps): string[] {
  if (typeof g !== 'object' || g === null) return ['gate: an object'];
  const p = checkUnknownProps(g, ['name', 'check', 'from', 'timeoutSeconds', 'intervalSeconds', 'afterRevert']);
  if (typeof g.name !== 'string' || !g.name.trim()) p.push('name: a non-empty string');
  if (g.from !== undefined && g.from !== 'host' && g.from !== 'controller') p.push("from: 'host' or 'controller'");
  if (g.timeoutSeconds !== undefined && !(g.timeoutSeconds > 0)) p.push('timeoutSeconds: a positive number');
  if (g.intervalSeconds !== undefined && !(g.intervalSeconds > 0)) p.push('intervalSeconds: a positive number');
  const from = g.from ?? 'host';
  p.push(...checkProblems(g.check, from, 'check'));
  if (g.afterRevert !== undefined && g.afterRevert !== false) p.push(...checkProblems(g.afterRevert, from, 'afterRevert'));
  return p;
}

/** The check that verifies a revert by default: the same, but an agent may reach the apiserver at any URL. */
function defaultAfterRevert(c: GateCheck): GateCheck {
  if (c.kind !== 'agent' || c.server === undefined) return c;
  const { server: _s, ...rest } = c;
  return rest;
}

export function describeGate(playIndex: number, play: PlayDefinition, gateIndex: number, name?: string): string {
  return `play ${playIndex + 1} "${play.name ?? play.hosts}" › gate ${gateIndex + 1}${name ? ` "${name}"` : ''}`;
}

/** Resolve and validate a play's gates for one host (plan time). Throws a VALIDATION or PLAYBOOK error naming the gate. */
export function planGates(playIndex: number, play: PlayDefinition, ctx: Omit<TaskContext, 'taskPath'>): PlannedGate[] {
  return (play.gates ?? []).map((input: GateInput, i) => {
    const path = describeGate(playIndex, play, i);
    let g: GateProps;
    try {
      g = typeof input === 'function' ? input({ ...ctx, taskPath: path }) : input;
    } catch (e) {
      if (isRigError(e)) throw e;
      throw new PlaybookError(`the gate threw: ${(e as Error)?.message ?? String(e)}`, { host: ctx.host.name, task: path, cause: e });
    }
    const problems = validateGate(g);
    const named = describeGate(playIndex, play, i, typeof g?.name === 'string' ? g.name : undefined);
    if (problems.length) throw new ValidationError(problems.map((s) => `${named}: ${s}`), { host: ctx.host.name, task: named });
    return {
      id: `g${playIndex}.${i}`, name: g.name, from: g.from ?? 'host', timeoutSeconds: g.timeoutSeconds ?? 60,
      intervalSeconds: g.intervalSeconds ?? 1, check: g.check,
      afterRevert: g.afterRevert === false ? null : g.afterRevert ?? defaultAfterRevert(g.check),
    };
  });
}
