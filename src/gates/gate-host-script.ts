import { quoteArgv, quoteShell } from '../text/shell-quote.ts';
import { hostProbeArgv } from './gate-probe-argv.ts';
import type { GateCheck } from './gate-types.ts';

export interface HostGateProbe {
  readonly id: string;
  readonly check: GateCheck;
  readonly timeoutSeconds: number;
  readonly intervalSeconds: number;
}

/**
 * ONE script polls every gate of a host, each in its own background loop (like `wait`: attempt, then sleep the
 * interval, until the timeout). Each gate prints `G <id> pass|fail <attempts> <last output, base64>` when it ends;
 * `Z ok` after the last. `$RIG_GATE_SINCE` (UTC, ms) is when polling started: an agent gate only counts requests
 * logged after it.
 */
export function buildGateScript(probes: readonly HostGateProbe[]): string {
  const lines = [
    'RIG_GATE_SINCE=$(date -u +%Y-%m-%dT%H:%M:%S.%3N); export RIG_GATE_SINCE',
    'rig_b64() { tail -c 400 | base64 | tr -d "\\n"; }',
    'rig_gate() {',
    '  rig_g=$1 rig_to=$2 rig_iv=$3; shift 3',
    '  rig_end=$(( $(date +%s) + rig_to )); rig_n=0',
    '  while :; do',
    '    rig_n=$((rig_n + 1))',
    '    if rig_o=$("$@" 2>&1 </dev/null); then printf "G %s pass %s %s\\n" "$rig_g" "$rig_n" "$(printf %s "$rig_o" | rig_b64)"; return 0; fi',
    '    if [ "$(date +%s)" -ge "$rig_end" ]; then printf "G %s fail %s %s\\n" "$rig_g" "$rig_n" "$(printf %s "$rig_o" | rig_b64)"; return 1; fi',
    '    sleep "$rig_iv"',
    '  done',
    '}',
  ];
  for (const p of probes) {
    lines.push(`rig_gate ${quoteShell(p.id)} ${Math.max(1, Math.ceil(p.timeoutSeconds))} ${Math.max(0.1, p.intervalSeconds)} ${quoteArgv(hostProbeArgv(p.check))} &`);
  }
  lines.push('wait', "echo 'Z ok'");
  return lines.join('\n') + '\n';
}

export interface GateLine { readonly id: string; readonly passed: boolean; readonly attempts: number; readonly output: string }

/** Parse one `G` line of the gate script, or undefined. */
export function parseGateLine(line: string): GateLine | undefined {
  const m = /^G (\S+) (pass|fail) (\d+) ?(\S*)$/.exec(line);
  if (!m) return undefined;
  return { id: m[1]!, passed: m[2] === 'pass', attempts: Number(m[3]), output: Buffer.from(m[4] ?? '', 'base64').toString('utf8').trim() };
}
