/**
 * The bench's report: one sitting (every table and ratio from one run of bench/bench.ts, with the machine's load and
 * the runs that failed), inserted at the top of the sittings in bench/RESULTS.md. Pure text, apart from the load,
 * the date and the commit it names.
 */
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { PROJECT_ROOT } from '../test/fleet/fleet-layout.ts';

export const SCALING_PLAYBOOK = 'bench/scaling-playbook.ts';
/** The key exchange ssh2 negotiates with OpenSSH: the floor that compares like with like. */
export const FLOOR_KEX = 'curve25519-sha256';
/** Where sittings start in RESULTS.md: a new sitting goes right below this line. */
export const SITTINGS_MARKER = '<!-- sittings: the newest first; bench/bench.ts inserts each new sitting below this line -->';

export interface SizeResult {
  readonly n: number;
  readonly rig: { changing: number[]; converged: number[]; rssKb: number[] };
  readonly ansible: { changing: number[]; converged: number[] };
  /** Ansible with the mitogen strategy; empty when it was not measured (see `mitogenNote`). */
  readonly mitogen: { changing: number[]; converged: number[] };
  mitogenNote: string;
  /** The floor with the key exchange rig's ssh2 negotiates (curve25519), and with OpenSSH's default. */
  readonly floor: number[];
  readonly floorDefaultKex: number[];
  /** The changing run's floor: only the job's service restarts, over OpenSSH (Bench.restartFloor). */
  readonly restartFloor: number[];
  readonly roundTrips: { changing: number; converged: number };
  /** Runs that failed, with their error; the bench went on without them. */
  readonly failures: string[];
  /** 1-minute load average before each counted round. */
  readonly load: number[];
  /** CPU ms (not timed) of converged rig and the curve25519 floor: the controller's side and the hosts' (bench/host-cpu.ts). */
  readonly cpu: { readonly rig: CpuSamples; readonly floor: CpuSamples };
}

export interface CpuSamples { readonly client: number[]; readonly hosts: number[] }


export interface ScalingPoint {
  readonly n: number;
  readonly fleets: number;
  readonly ms: number[];
  readonly rssKb: number[];
  readonly failures: string[];
  readonly load: number[];
}


export function log(s: string): void { process.stdout.write(`${s}\n`); }

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 600);

/** Run one measurement; a failure is logged and recorded in `failures`, and the bench goes on. */
export async function attempt<T>(failures: string[], label: string, fn: () => Promise<T>): Promise<T | undefined> {
  try { return await fn(); } catch (e) {
    failures.push(`${label}: ${errorText(e)}`);
    log(`  ${label} FAILED: ${errorText(e)}`);
    return undefined;
  }
}

export const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
export const fmt = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
export const spread = (xs: number[]): string => `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;

const ratio = (rig: number[], other: number[]): string => (other.length && rig.length ? `${(median(other) / median(rig)).toFixed(1)}×` : '–');
const overFloor = (rig: number[], floor: number[]): string => (rig.length && floor.length ? (median(rig) / median(floor)).toFixed(2) : '–');
const cell = (xs: number[]): string => (xs.length ? spread(xs) : 'failed');
const loadRange = (xs: number[]): string => (xs.length ? `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}` : '?');

function gitCommit(): string {
  try { return execSync('git rev-parse --short HEAD', { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim(); } catch { return 'unknown'; }
}

/** One sitting: every table and ratio from this run of the bench, with the machine's load. */
export function renderSitting(opts: { readonly argv: readonly string[] }, started: { at: Date; load: string }, results: SizeResult[], scaling: ScalingPoint[], startup: readonly string[] = []): string {
  const lines: string[] = [];
  lines.push(`## Sitting ${started.at.toISOString().slice(0, 16).replace('T', ' ')} UTC — commit ${gitCommit()}`, '');
  lines.push(`Command: \`npm run bench -- ${opts.argv.join(' ')}\`. Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
    `Load average (1, 5, 15 min) at the start: ${started.load}; at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
    ...(results.length ? [`Floors: N parallel OpenSSH connections reading the job's files; "curve25519" pins \`KexAlgorithms=${FLOOR_KEX}\` (what ssh2, so rig, negotiates), "default kex" is OpenSSH's default (a post-quantum hybrid).`] : []), '');
  if (results.length) {
    lines.push('| N | run | rig | Ansible | Ansible + mitogen | floor, curve25519 | floor, default kex | Ansible / rig | mitogen / rig | rig / floor (curve25519) | rig / floor (default kex) | load (1 min) |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|');
  }
  for (const r of results) {
    const mit = (xs: number[]): string => (xs.length ? spread(xs) : 'not measured');
    lines.push(`| ${r.n} | changing | ${cell(r.rig.changing)} | ${cell(r.ansible.changing)} | ${mit(r.mitogen.changing)} | | | ${ratio(r.rig.changing, r.ansible.changing)} | ${ratio(r.rig.changing, r.mitogen.changing)} | | | ${loadRange(r.load)} |`);
    lines.push(`| ${r.n} | converged | ${cell(r.rig.converged)} | ${cell(r.ansible.converged)} | ${mit(r.mitogen.converged)} | ${cell(r.floor)} | ${cell(r.floorDefaultKex)} | ${ratio(r.rig.converged, r.ansible.converged)} | ${ratio(r.rig.converged, r.mitogen.converged)} | ${overFloor(r.rig.converged, r.floor)} | ${overFloor(r.rig.converged, r.floorDefaultKex)} | ${loadRange(r.load)} |`);
  }
  if (results.length) {
    lines.push('', '"Ansible / rig" reads "Ansible takes that many times as long as rig". Medians (min–max) over the counted rounds.', '');
    lines.push('| N | counted rounds | SSH round trips per host (rig --stats), changing / converged | controller peak RSS (rig) |', '|---|---|---|---|');
  }
  for (const r of results) lines.push(`| ${r.n} | ${r.rig.converged.length} | ${r.roundTrips.changing} / ${r.roundTrips.converged} | ${r.rig.rssKb.length ? `${Math.round(Math.max(...r.rig.rssKb) / 1024)} MB` : '?'} |`);
  for (const r of results) if (r.mitogenNote) lines.push('', `Ansible with mitogen at N=${r.n}: ${r.mitogenNote}`);
  const restartRows = results.filter((r) => r.restartFloor.length);
  if (restartRows.length) {
    lines.push('', 'The changing run\'s floor: only the job\'s service restarts, in its order, over OpenSSH (the master\'s three daemons, then every',
      'worker\'s two at once, then the master\'s apiserver again); every tool pays at least this.', '',
      '| N | restart floor | rig changing / restart floor | Ansible changing / restart floor | mitogen changing / restart floor |', '|---|---|---|---|---|');
    for (const r of restartRows) {
      lines.push(`| ${r.n} | ${cell(r.restartFloor)} | ${overFloor(r.rig.changing, r.restartFloor)} | ${overFloor(r.ansible.changing, r.restartFloor)} | ${overFloor(r.mitogen.changing, r.restartFloor)} |`);
    }
  }
  const cpuRows = results.filter((r) => r.cpu.rig.client.length && r.cpu.floor.client.length);
  if (cpuRows.length) {
    lines.push('', 'Where the CPU goes (a separate pass after the timed rounds, not timed; medians of 3): the controller\'s side (the tool\'s processes) and',
      'the hosts\' side (every sshd of the fleet and all it ran for the run: handshakes, login shells, scripts). Controller and hosts',
      'share this machine\'s cores, so the wall time follows the total.', '',
      '| N | run | controller CPU | hosts\' CPU | total | total / floor\'s total |', '|---|---|---|---|---|---|');
    for (const r of cpuRows) {
      const tot = (c: CpuSamples): number => median(c.client) + median(c.hosts);
      lines.push(`| ${r.n} | floor, curve25519 | ${fmt(median(r.cpu.floor.client))} | ${fmt(median(r.cpu.floor.hosts))} | ${fmt(tot(r.cpu.floor))} | 1.00 |`);
      lines.push(`| ${r.n} | rig converged | ${fmt(median(r.cpu.rig.client))} | ${fmt(median(r.cpu.rig.hosts))} | ${fmt(tot(r.cpu.rig))} | ${(tot(r.cpu.rig) / tot(r.cpu.floor)).toFixed(2)} |`);
    }
  }
  if (scaling.length) {
    lines.push('', `### Scaling: rig's converged run of \`${SCALING_PLAYBOOK}\` (fleets seeded with \`--seed files\`)`, '',
      '| N | fleets | median | runs | per host | controller peak RSS | load (1 min) |', '|---|---|---|---|---|---|---|');
    for (const p of scaling) {
      lines.push(`| ${p.n} | ${p.fleets} | ${p.ms.length ? fmt(median(p.ms)) : 'failed'} | ${p.ms.length} | ${p.ms.length ? `${(median(p.ms) / p.n).toFixed(1)} ms` : '–'} | ${p.rssKb.length ? `${Math.round(Math.max(...p.rssKb) / 1024)} MB` : '?'} | ${loadRange(p.load)} |`);
    }
  }
  if (startup.length) lines.push('', ...startup); // bench/bench-startup.ts
  const failures = [...results.flatMap((r) => r.failures), ...scaling.flatMap((p) => p.failures)];
  if (failures.length) lines.push('', 'Failed runs (recorded; the bench went on):', '', ...failures.map((f) => `- ${f}`));
  return `${lines.join('\n')}\n`;
}

const RESULTS_HEADER = `# Benchmark results: rig vs Ansible on the local fleet

Job: \`playbooks/secure-cluster.ts\` (rig) and \`bench/ansible/secure-cluster.yml\`, the same job written as an operator would in
Ansible (file, copy, template, replace, lineinfile, service handlers; the same three plays — master's secure port, workers
in \`worker_serial\` batches, the insecure port to loopback last — and rig's health gates as handlers with retries after
each batch's restarts; forks = N, pipelining and ControlPersist on, no fact gathering), also run with Debian's
ansible-mitogen \`mitogen_linear\` strategy. Both leave the same files on every host. All install the same certificates
(issued once by rig's PKI before the runs). Every run pair re-seeds each host (old cluster state) before the changing run;
the converged run follows it once the machine's CPUs are mostly idle again (the changing run restarts the fleet's
stand-in daemons on these same cores; each converged run and floor waits for ≥ 75 % idle over a second, at most 30 s). The tools rotate round by round after one warm-up round; medians and min–max over the
counted rounds. Floors: the converged run's (N parallel OpenSSH connections reading the job's files) and the changing
run's (only the job's service restarts, over OpenSSH). A separate untimed pass says where the CPU goes (controller and
hosts). Each sitting is one run of \`npm run bench\`: compare ratios within a sitting, never across sittings.

${SITTINGS_MARKER}
`;

/** Put the sitting at the top of the sittings of `previous` (the file as it was before this sitting; with the header
 *  when it had no sittings marker) and write it to `file`. */
export function writeSitting(file: string, sitting: string, previous: string): void {
  const base = previous;
  const text = base.includes(SITTINGS_MARKER)
    ? base.replace(SITTINGS_MARKER, `${SITTINGS_MARKER}\n\n${sitting.trimEnd()}`)
    : `${RESULTS_HEADER}\n${sitting}${base ? `\n${base.replace(/^# .*\n/, '## Earlier results\n')}` : ''}`;
  writeFileSync(file, text);
}
