import { PAUSE_FUNCTION, pollPauses } from '../engine/poll-backoff.ts';
import { quoteArgv, quoteShell } from '../text/shell-quote.ts';
import { hostProbeArgv } from './gate-probe-argv.ts';
import type { GateCheck } from './gate-types.ts';

export interface HostGateProbe {
  readonly id: string;
  readonly check: GateCheck;
  readonly timeoutSeconds: number;
  readonly intervalSeconds: number;
}

/** Output of a gate loop stopped by the run's stop marker (the controller was interrupted). */
export const GATE_INTERRUPTED_OUTPUT = 'interrupted: a stop was requested while polling';

/**
 * Shell functions of the gate loops (constant text; every value arrives as an argument). `rig_gate ID TIMEOUT PAUSES
 * ARGV...` polls like `wait`: the first attempt at once, then the pauses of pollPauses (0.1 s doubling up to the
 * gate's interval), until the probe passes or the timeout ends; prints `G <id> pass|fail <attempts> <last output,
 * base64>`. Inside an apply script (`$RIG_RUN` set) the run's stop marker ends the loop as failed, interrupted.
 */
const GATE_FUNCTIONS = [
  'rig_b64() { tail -c 400 | base64 | tr -d "\\n"; }',
  PAUSE_FUNCTION,
  'rig_gate() {',
  '  rig_g=$1 rig_to=$2 rig_pz=$3; shift 3',
  '  rig_end=$(( $(date +%s) + rig_to )); rig_n=0',
  '  while :; do',
  `    if [ -n "\${RIG_RUN:-}" ] && [ -e "$RIG_RUN/stop" ]; then printf "G %s fail %s %s\\n" "$rig_g" "$rig_n" "$(printf %s ${quoteShell(GATE_INTERRUPTED_OUTPUT)} | rig_b64)"; return 1; fi`,
  '    rig_n=$((rig_n + 1))',
  '    if rig_o=$("$@" 2>&1 </dev/null); then printf "G %s pass %s %s\\n" "$rig_g" "$rig_n" "$(printf %s "$rig_o" | rig_b64)"; return 0; fi',
  '    if [ "$(date +%s)" -ge "$rig_end" ]; then printf "G %s fail %s %s\\n" "$rig_g" "$rig_n" "$(printf %s "$rig_o" | rig_b64)"; return 1; fi',
  '    rig_pause',
  '  done',
  '}',
];

/** Sets `$RIG_GATE_SINCE` (UTC, ms): an agent gate only counts requests logged after it. */
export const GATE_SINCE_LINE = 'RIG_GATE_SINCE=$(date -u +%Y-%m-%dT%H:%M:%S.%3N); export RIG_GATE_SINCE';

/** Lines that start the gates and wait for all (`$RIG_GATE_SINCE` set before). */
function gateRunLines(probes: readonly HostGateProbe[]): string[] {
  return [
    ...GATE_FUNCTIONS,
    ...probes.map((p) => `rig_gate ${quoteShell(p.id)} ${Math.max(1, Math.ceil(p.timeoutSeconds))} ${quoteShell(pollPauses(p.intervalSeconds))} ${quoteArgv(hostProbeArgv(p.check))} &`),
    'wait',
  ];
}

/**
 * ONE script polls every gate of a host, each in its own background loop; `Z ok` after the last. Used where the gates
 * run on their own (verifying a revert; a host whose apply script did not carry them).
 */
export function buildGateScript(probes: readonly HostGateProbe[]): string {
  return [GATE_SINCE_LINE, ...gateRunLines(probes), "echo 'Z ok'"].join('\n') + '\n';
}

/** Record printed when the gates of an apply script start: the controller times each gate from it. */
export const GATES_START_RECORD = 'GS';

/**
 * The same gates as the tail of a host's apply script (its epilogue: after every step, handler and wait succeeded,
 * before the lock is released and `Z ok`): no round trip of their own. Prints `GS` when polling starts.
 * `$RIG_GATE_SINCE` is set by the script's prologue (GATE_SINCE_LINE): when the host's script started, before its
 * first change — an agent's request counts when it was logged after that and after the agent's last (re)start.
 */
export function buildGateEpilogue(probes: readonly HostGateProbe[]): string {
  if (!probes.length) return '';
  return [`echo ${GATES_START_RECORD}`, ...gateRunLines(probes)].join('\n');
}

export interface GateLine { readonly id: string; readonly passed: boolean; readonly attempts: number; readonly output: string }

/** Parse one `G` line of the gate script, or undefined. */
export function parseGateLine(line: string): GateLine | undefined {
  const m = /^G (\S+) (pass|fail) (\d+) ?(\S*)$/.exec(line);
  if (!m) return undefined;
  return { id: m[1]!, passed: m[2] === 'pass', attempts: Number(m[3]), output: Buffer.from(m[4] ?? '', 'base64').toString('utf8').trim() };
}
