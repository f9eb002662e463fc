import type { Change, WaitCheck } from '../core/change.ts';
import { checkUnknownProps } from './file-write.ts';
import { defineModule } from './module.ts';

export interface WaitProps {
  /** Poll this http(s) URL with curl on the host until it answers `expectStatus`. Give `url` or `argv`. */
  readonly url?: string;
  /** Or poll this command on the host until it exits 0. */
  readonly argv?: readonly string[];
  /** Give up (the host fails) after this many seconds. @default 60 */
  readonly timeoutSeconds?: number;
  /** Longest pause between two attempts, seconds: the first attempt runs at once, then pauses of 0.1 s doubling up to this. @default 1 */
  readonly intervalSeconds?: number;
  /** CA certificate (a path on the host) curl verifies the server with (`--cacert`). */
  readonly caFile?: string;
  /** Client certificate (a path on the host) curl presents (`--cert`). */
  readonly clientCert?: string;
  /** Key of `clientCert` (a path on the host, `--key`). */
  readonly clientKey?: string;
  /** The HTTP status that means healthy. @default 200 */
  readonly expectStatus?: number;
  /**
   * What `rig rollback` waits for after undoing this play's steps on the host (src/changelog/invert-run.ts): the
   * check of the state before the run, same props as here (`url` or `argv`, ...). `false`: rollback does not wait.
   * @default this same check
   */
  readonly rollback?: false | Omit<WaitProps, 'rollback'>;
}

const CHECK_PROPS = ['url', 'argv', 'timeoutSeconds', 'intervalSeconds', 'caFile', 'clientCert', 'clientKey', 'expectStatus'];

function checkProblems(p: Omit<WaitProps, 'rollback'>, prefix: string, allowed: readonly string[] = CHECK_PROPS): string[] {
  const problems = checkUnknownProps(p, allowed).map((x) => prefix + x);
  if ((p.url === undefined) === (p.argv === undefined)) problems.push(`${prefix}url: give exactly one of url or argv`);
  if (p.url !== undefined && !/^https?:\/\/\S+$/.test(p.url)) problems.push(`${prefix}url: an http(s) URL`);
  if (p.timeoutSeconds !== undefined && !(p.timeoutSeconds > 0)) problems.push(`${prefix}timeoutSeconds: a positive number`);
  return problems;
}

/** The poll a wait's props describe. */
function waitCheck(p: Omit<WaitProps, 'rollback'>): WaitCheck {
  const curlArgs = [...(p.caFile ? ['--cacert', p.caFile] : []), ...(p.clientCert ? ['--cert', p.clientCert] : []), ...(p.clientKey ? ['--key', p.clientKey] : [])];
  const argv = p.url ? ['sh', '-c', CURL_CHECK, 'sh', p.url, String(p.expectStatus ?? 200), ...curlArgs] : [...p.argv!];
  return { argv, timeoutSeconds: p.timeoutSeconds ?? 60, intervalSeconds: p.intervalSeconds ?? 1, description: p.url ? `${p.url} answers ${p.expectStatus ?? 200}` : p.argv!.join(' ') };
}

/** Constant script; the URL and options arrive as positional parameters. */
const CURL_CHECK = 'url=$1; want=$2; shift 2; code=$(curl -sS -o /dev/null --max-time 5 -w "%{http_code}" "$@" "$url") || exit 1; echo "HTTP $code"; [ "$code" = "$want" ]';

/**
 * `wait({ url })` / `wait({ argv })`: poll until healthy, e.g. after a restart. Planned only when something else
 * changes on the host in the same play: on a converged host it plans nothing.
 *
 * @plan `wait: URL answers 200 (timeout 60s)` or `wait: ARGV (timeout 60s)`, only on hosts where the play changes
 * something.
 *
 * @rollback `rig rollback` polls again after undoing the play's steps and re-running its service actions on the host
 * (a restarted apiserver is waited for like the apply did): this same check, or the `rollback` check (the state
 * before the run may not serve the apply's check), or none with `rollback: false`. A run journaled by an older rig
 * (no batch records) is rolled back without waits.
 *
 * @example
 * wait({ url: 'https://127.0.0.1:6443/healthz', caFile: '/etc/kubernetes/pki/ca.crt', timeoutSeconds: 120 })
 */
export const wait = defineModule<WaitProps>({
  name: 'wait',
  validate: (p) => {
    const { rollback, ...check } = p;
    const problems = checkProblems(check, '', [...CHECK_PROPS, 'rollback']);
    if (rollback !== undefined && rollback !== false) {
      if (typeof rollback !== 'object' || rollback === null) problems.push('rollback: false or the props of the check to run after a rollback');
      else problems.push(...checkProblems(rollback, 'rollback.'));
    }
    return problems;
  },
  facts: () => [],
  plan: (p, _facts, ctx) => {
    const { rollback, ...check } = p;
    const c: Change = {
      kind: 'wait', ...waitCheck(check), task: ctx.taskPath, reason: 'wait until healthy',
      ...(rollback === undefined ? {} : { rollback: rollback === false ? false : waitCheck(rollback) }),
    };
    return { changes: [c] };
  },
});
