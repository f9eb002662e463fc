/**
 * rig against Ansible on the same fleet, the same job, in one run (issue 8). Not a test: nothing is asserted.
 *
 *   npm run bench -- [N...] [--runs R] [--scaling N,N,...] [--scaling-only] [--out FILE] [--settle SECONDS] [--fleet-id ID]
 *                    [--startup-only] [--startup-runs R]
 *
 * For each N (default 10 50): bring the fleet up (seeded old cluster), issue the job's certificates once (rig's PKI;
 * Ansible copies the same files), then alternate the tools round by round (A B, B A, …) after one warm-up round:
 * each round re-seeds every host, times the changing run, then the converged run. The floor: N parallel OpenSSH
 * connections each reading the job's target files in one command, measured twice per round: with
 * `KexAlgorithms=curve25519-sha256` (the key exchange ssh2, so rig, negotiates: like with like) and with OpenSSH's
 * default key exchange (a post-quantum hybrid, slower per handshake). Ansible runs twice over: plain and with the
 * ansible-mitogen strategy (when installed). rig's runs go through /usr/bin/time for peak RSS and `--json --stats`
 * for SSH round trips per host. A tool failing a run is recorded with its error and the bench goes on.
 *
 * The scaling line (`--scaling 50,200,500,1000`): rig's converged run of bench/scaling-playbook.ts on fleets seeded
 * with `--seed files` (no daemons), several fleets joined above 200 hosts (bench/bench-fleet.ts); ms per host and
 * controller peak RSS at each N.
 *
 * Each run of the bench is one sitting: it is added at the top of the sittings in bench/RESULTS.md (the machine's
 * load noted), older sittings stay below it.
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { execInHost } from '../test/fleet/fleet-lib.ts';
import { PROJECT_ROOT } from '../test/fleet/fleet-layout.ts';
import { downBenchFleet, splitFleetSizes, upBenchFleet, type BenchFleet } from './bench-fleet.ts';
import { measureStartup, renderStartup } from './bench-startup.ts';
import { attempt, errorText, fmt, FLOOR_KEX, log, renderSitting, SCALING_PLAYBOOK, writeSitting, type ScalingPoint, type SizeResult } from './bench-report.ts';
import { sshdCpuMs, sshdListeners } from './host-cpu.ts';
import { quoteShell } from '../src/text/shell-quote.ts';

const WORK = join(PROJECT_ROOT, 'bench', '.work');
const RIG = join(PROJECT_ROOT, 'bin', 'rig.js');
const PLAYBOOK = 'playbooks/secure-cluster.ts';
const ANSIBLE_PLAYBOOK = join(PROJECT_ROOT, 'bench', 'ansible', 'secure-cluster.yml');
/** Paths the job changes; the seed snapshot restores them between changing runs. */
const SEED_PATHS = ['srv/kubernetes', 'etc/default/kubelet', 'etc/default/kube-proxy', 'etc/default/kube-apiserver', 'var/lib/kubelet', 'var/lib/kube-proxy', 'root/.kube'];
const TARGETS = ['/srv/kubernetes/ca.crt', '/srv/kubernetes/server.cert', '/srv/kubernetes/kubelet.crt', '/srv/kubernetes/kube-proxy.crt', '/srv/kubernetes/basic_auth.csv',
  '/root/.kube/config', '/root/.kube/kube-proxy.kubeconfig', '/etc/default/kubelet', '/etc/default/kube-proxy', '/etc/default/kube-apiserver'];

interface Options {
  readonly sizes: number[];
  readonly runs: number;
  readonly scaling: number[];
  readonly out: string;
  /** Longest wait, in seconds, for the fleet's boot load to settle before measuring (default 180; 0 for smoke runs). */
  readonly settleSeconds: number;
  /** Fleet id to bring up (default 240; the test suite's fleets use lower ids); a scaling fleet above 200 hosts also
   *  uses the next ids. */
  readonly fleetId: number;
  readonly argv: readonly string[];
  /** Startup CPU time (bench/bench-startup.ts): runs per command (default 20), measured first in every sitting. */
  readonly startupRuns: number;
}

function parseOptions(argv: readonly string[]): Options {
  const sizes: number[] = []; let runs = 5; let scaling: number[] = []; let out = join(PROJECT_ROOT, 'bench', 'RESULTS.md'); let settleSeconds = 180; let fleetId = 240; let scalingOnly = false;
  let startupOnly = false; let startupRuns = 20;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--scaling') scaling = argv[++i]!.split(',').map(Number);
    else if (a === '--scaling-only') scalingOnly = true;
    else if (a === '--startup-only') startupOnly = true;
    else if (a === '--startup-runs') startupRuns = Number(argv[++i]);
    else if (a === '--out') out = argv[++i]!;
    else if (a === '--settle') settleSeconds = Number(argv[++i]);
    else if (a === '--fleet-id') fleetId = Number(argv[++i]);
    else if (/^\d+$/.test(a)) sizes.push(Number(a));
    else throw new Error(`unknown argument ${a} (usage: npm run bench -- [N...] [--runs R] [--scaling 10,50,100,200] [--scaling-only] [--out FILE] [--settle SECONDS] [--fleet-id ID] [--startup-only] [--startup-runs R])`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  if (!(settleSeconds >= 0)) throw new Error('--settle must be a number of seconds');
  if (scalingOnly && !scaling.length) throw new Error('--scaling-only needs --scaling N,N,...');
  if (!Number.isInteger(startupRuns) || startupRuns < 1) throw new Error('--startup-runs must be a positive integer');
  if (startupOnly) return { sizes: [], runs, scaling: [], out, settleSeconds, fleetId, argv, startupRuns };
  return { sizes: scalingOnly ? [] : sizes.length ? sizes : [10, 50], runs, scaling, out, settleSeconds, fleetId, argv, startupRuns };
}

interface Timed { readonly ms: number; readonly code: number; readonly stdout: string; readonly stderr: string }

function timeCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { cwd: PROJECT_ROOT, env });
    let stdout = ''; let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code: code ?? -1, stdout, stderr }));
  });
}


class Bench {
  readonly pkiDir: string;
  readonly stateDir: string;
  readonly rssFile: string;

  constructor(readonly fleet: BenchFleet) {
    const dir = join(WORK, `n${fleet.hosts.length}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    this.pkiDir = join(dir, 'pki');
    this.stateDir = join(dir, 'state');
    this.rssFile = join(dir, 'rss');
  }

  get master(): string { return this.fleet.hosts.find((h) => h.role === 'master')!.ip; }

  rigArgs(cmd: string, extra: string[] = [], playbook = PLAYBOOK): string[] {
    return ['/usr/bin/time', '-f', '%M %U %S', '-o', this.rssFile, process.execPath, RIG, cmd, '-i', this.fleet.inventoryPath, '--ssh-config', this.fleet.sshConfigPath,
      '--state-dir', this.stateDir, '--forks', String(this.fleet.hosts.length), '-e', `pki_dir=${this.pkiDir}`, ...extra, playbook];
  }

  /** One `rig apply`; all workers in one batch unless `workerSerial` says otherwise. */
  async rig(extra: string[] = [], workerSerial = '100%', playbook = PLAYBOOK): Promise<Timed & { rssKb: number; cpuMs: number; roundTrips?: number }> {
    const r = await timeCommand(this.rigArgs('apply', ['-e', `worker_serial=${workerSerial}`, ...extra], playbook), { ...process.env, NO_COLOR: '1' });
    // The error's own lines first (the failure summary keeps only the start of the message)
    if (r.code !== 0) throw new Error(`rig apply failed (${r.code}): ${r.stderr.trim().split('\n').slice(-6).join(' / ')} // stdout: ${r.stdout.trim().split('\n').slice(-8).join(' / ')}`);
    // /usr/bin/time's last line: peak RSS (KiB), user and system CPU seconds (rig and its children)
    const [rssKb, user, sys] = readFileSync(this.rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
    const cpuMs = Math.round((user + sys) * 1000);
    let roundTrips: number | undefined;
    if (extra.includes('--stats')) {
      const stats = (JSON.parse(r.stdout) as { stats: Array<{ roundTrips: number }> }).stats;
      roundTrips = Math.max(...stats.map((s) => s.roundTrips));
    }
    return { ...r, rssKb, cpuMs, ...(roundTrips !== undefined ? { roundTrips } : {}) };
  }

  /** One ansible-playbook run; `mitogen` switches to Debian's ansible-mitogen `mitogen_linear` strategy. */
  async ansible(mitogen = false, workerSerial = '100%'): Promise<Timed> {
    const cp = join(WORK, 'cp');
    mkdirSync(cp, { recursive: true });
    const r = await timeCommand(['ansible-playbook', '-i', this.fleet.inventoryPath, '-f', String(this.fleet.hosts.length), ANSIBLE_PLAYBOOK,
      '-e', `pki_dir=${this.pkiDir}`, '-e', `master_address=${this.master}`, '-e', `worker_serial=${workerSerial}`], {
      ...process.env, ANSIBLE_CONFIG: join(PROJECT_ROOT, 'bench', 'ansible', 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', ANSIBLE_PIPELINING: 'True',
      ANSIBLE_SSH_ARGS: `-F ${this.fleet.sshConfigPath} -o ControlMaster=auto -o ControlPersist=300s`, ANSIBLE_SSH_CONTROL_PATH_DIR: cp,
      ...(mitogen ? { ANSIBLE_STRATEGY: 'mitogen_linear' } : {}),
    });
    if (r.code !== 0) throw new Error(`ansible-playbook${mitogen ? ' (mitogen)' : ''} failed (${r.code}): ${summarizeAnsibleFailure(`${r.stdout}\n${r.stderr}`)}`);
    return r;
  }

  /** N parallel OpenSSH connections, each reading the job's target files in one command; `kex` pins the key
   *  exchange (else OpenSSH's default). Throws when a connection fails (a floor with lost hosts is no floor). */
  async floor(kex?: string): Promise<number> {
    const t0 = process.hrtime.bigint();
    const runs = await Promise.all(this.fleet.hosts.map((h) => timeCommand(['ssh', '-F', this.fleet.sshConfigPath, '-o', 'ControlMaster=no', '-o', 'ControlPath=none',
      ...(kex ? ['-o', `KexAlgorithms=${kex}`] : []), h.name, `cat ${TARGETS.join(' ')} 2>/dev/null | sha256sum`])));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const failed = runs.filter((r) => r.code !== 0);
    if (failed.length) throw new Error(`floor${kex ? ` (${kex})` : ''}: ${failed.length} of ${runs.length} ssh connections failed: ${failed[0]!.stderr.trim().slice(0, 300)}`);
    return ms;
  }

  /**
   * The changing run's floor: only the job's service restarts, in its order, each host's in one OpenSSH connection
   * (curve25519): the master's kube-apiserver, kubelet and kube-proxy; then every worker's kubelet and kube-proxy at
   * once; then the master's kube-apiserver again (the job's third play). The stand-in init scripts return once the
   * restarted daemon runs. Any tool pays at least this; rig's and Ansible's changing runs are compared with it.
   */
  async restartFloor(): Promise<number> {
    const ssh = (name: string, command: string) => timeCommand(['ssh', '-F', this.fleet.sshConfigPath, '-o', 'ControlMaster=no', '-o', 'ControlPath=none',
      '-o', `KexAlgorithms=${FLOOR_KEX}`, name, command]);
    const master = this.fleet.hosts.find((h) => h.role === 'master')!;
    const workers = this.fleet.hosts.filter((h) => h !== master);
    const t0 = process.hrtime.bigint();
    const runs = [await ssh(master.name, '/etc/init.d/kube-apiserver restart && /etc/init.d/kubelet restart && /etc/init.d/kube-proxy restart')];
    runs.push(...await Promise.all(workers.map((w) => ssh(w.name, '/etc/init.d/kubelet restart && /etc/init.d/kube-proxy restart'))));
    runs.push(await ssh(master.name, '/etc/init.d/kube-apiserver restart'));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const failed = runs.filter((r) => r.code !== 0);
    if (failed.length) throw new Error(`restart floor: ${failed.length} of ${runs.length} restarts failed: ${failed[0]!.stderr.trim().slice(0, 300)}`);
    return ms;
  }

  /**
   * The curve25519 floor's CPU (not timed): the same N connections launched by one shell under /usr/bin/time, so the
   * client side is every ssh process's CPU.
   */
  async floorCpuMs(): Promise<number> {
    const ssh = this.fleet.hosts.map((h) => `ssh -F ${quoteShell(this.fleet.sshConfigPath)} -o ControlMaster=no -o ControlPath=none -o KexAlgorithms=${FLOOR_KEX} ${quoteShell(h.name)} ${quoteShell(`cat ${TARGETS.join(' ')} 2>/dev/null | sha256sum`)} >/dev/null &`);
    const r = await timeCommand(['/usr/bin/time', '-f', '%U %S', '-o', this.rssFile, 'sh', '-c', `${ssh.join('\n')}\nwait`]);
    if (r.code !== 0) throw new Error(`floor (CPU pass) failed: ${r.stderr.slice(0, 300)}`);
    const [user, sys] = readFileSync(this.rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number];
    return Math.round((user + sys) * 1000);
  }

  /** Client and host-side CPU of `run` (the hosts' side from the sshd listeners, after the run's sessions closed). */
  async cpuOf(run: () => Promise<number>): Promise<{ client: number; hosts: number }> {
    const listeners = sshdListeners(this.fleet.fleets);
    const before = sshdCpuMs(listeners);
    const client = await run();
    await new Promise((r) => setTimeout(r, 1000));
    return { client, hosts: Math.round(sshdCpuMs(listeners) - before) };
  }

  async snapshotSeed(): Promise<void> {
    const script = `cd / && tar czf /var/tmp/rig-bench-seed.tgz $(for p in ${SEED_PATHS.join(' ')}; do [ -e "$p" ] && echo "$p"; done)`;
    await Promise.all(this.fleet.hosts.map((h) => execInHost(h.fleet, h.fleetName, ['sh', '-c', script])));
  }

  async reseed(): Promise<void> {
    // /root/.kube: the workers' kubeconfigs (tasks/cluster-vars.ts), which the seed does not have.
    const script = `rm -rf /srv/kubernetes /var/lib/kubelet /var/lib/kube-proxy /var/lib/rig /root/.kube && tar xzf /var/tmp/rig-bench-seed.tgz -C /`;
    await Promise.all(this.fleet.hosts.map((h) => execInHost(h.fleet, h.fleetName, ['sh', '-c', script])));
  }
}

type Tool = 'rig' | 'ansible' | 'mitogen';

const loadAverage = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);


async function benchSize(n: number, opts: Options, mitogenInstalled: boolean): Promise<SizeResult> {
  log(`\n== N=${n}: fleet up`);
  const fleet = await upBenchFleet(n, opts.fleetId, 'full', join(WORK, `fleet-n${n}`));
  try {
    const b = new Bench(fleet);
    await settle(opts.settleSeconds);
    await b.snapshotSeed();
    // Issue the certificates once (rig's PKI); both tools install these same files.
    const plan = await timeCommand(b.rigArgs('plan').slice(5), { ...process.env, NO_COLOR: '1' });
    if (plan.code !== 2) throw new Error(`rig plan (issuing the certificates) exited ${plan.code}: ${plan.stderr.slice(-2000)}`);
    const res: SizeResult = { n, rig: { changing: [], converged: [], rssKb: [] }, ansible: { changing: [], converged: [] },
      mitogen: { changing: [], converged: [] }, mitogenNote: '', floor: [], floorDefaultKex: [], restartFloor: [], roundTrips: { changing: 0, converged: 0 }, failures: [], load: [],
      cpu: { rig: { client: [], hosts: [] }, floor: { client: [], hosts: [] } } };
    // Round trips from --stats (one extra, uncounted pair).
    await b.reseed();
    res.roundTrips.changing = (await attempt(res.failures, 'round trips, changing', () => b.rig(['--json', '--stats'])))?.roundTrips ?? 0;
    res.roundTrips.converged = (await attempt(res.failures, 'round trips, converged', () => b.rig(['--json', '--stats'])))?.roundTrips ?? 0;
    const tools: Tool[] = ['rig', 'ansible'];
    if (!mitogenInstalled) res.mitogenNote = 'not installed (`apt-get install ansible-mitogen`); not measured.';
    else {
      // Probe once: mitogen supports only some Ansible versions; if it fails here, say so and go on without it.
      await b.reseed();
      try { await b.ansible(true); tools.push('mitogen'); } catch (e) {
        res.mitogenNote = `does not work here: ${e instanceof Error ? e.message : String(e)}`;
        log(`  mitogen: ${res.mitogenNote}`);
      }
    }
    for (let round = 0; round <= opts.runs; round++) {
      const order = tools.map((_, i) => tools[(i + round) % tools.length]!); // A B C, B C A, C A B, …
      const label = round ? `round ${round}` : 'warm-up';
      const counted = round > 0;
      // A failure in the warm-up round is recorded too: it says the tool is unreliable here.
      const failures = res.failures;
      if (counted) res.load.push(loadAverage());
      for (const tool of order) {
        await b.reseed();
        if (tool === 'rig') {
          const c = await attempt(failures, `N=${n} ${label} rig changing`, () => b.rig());
          const v = c && await quiesce() && await attempt(failures, `N=${n} ${label} rig converged`, () => b.rig());
          if (counted && c) { res.rig.changing.push(c.ms); res.rig.rssKb.push(c.rssKb); }
          if (counted && v) { res.rig.converged.push(v.ms); res.rig.rssKb.push(v.rssKb); }
          log(`  ${label} rig      changing ${c ? fmt(c.ms) : 'failed'}, converged ${v ? fmt(v.ms) : 'failed'}${c ? ` (peak RSS ${Math.round(Math.max(c.rssKb, v?.rssKb ?? 0) / 1024)} MB)` : ''}`);
        } else {
          const m = tool === 'mitogen';
          const c = await attempt(failures, `N=${n} ${label} ${tool} changing`, () => b.ansible(m));
          const v = c && await quiesce() && await attempt(failures, `N=${n} ${label} ${tool} converged`, () => b.ansible(m));
          if (counted && c) res[tool].changing.push(c.ms);
          if (counted && v) res[tool].converged.push(v.ms);
          log(`  ${label} ${tool.padEnd(8)} changing ${c ? fmt(c.ms) : 'failed'}, converged ${v ? fmt(v.ms) : 'failed'}`);
        }
      }
      // The two floors alternate which goes first, round by round.
      const kexes = round % 2 ? [undefined, FLOOR_KEX] : [FLOOR_KEX, undefined];
      const floors: string[] = [];
      for (const kex of kexes) {
        await quiesce();
        const f = await attempt(failures, `N=${n} ${label} floor (${kex ?? 'default kex'})`, () => b.floor(kex));
        if (f !== undefined && counted) (kex ? res.floor : res.floorDefaultKex).push(f);
        floors.push(`${kex ?? 'default kex'} ${f === undefined ? 'failed' : fmt(f)}`);
      }
      log(`  ${label} floor    ${floors.join(', ')} (load ${loadAverage()})`);
      await quiesce();
      const rf = await attempt(failures, `N=${n} ${label} restart floor`, () => b.restartFloor());
      if (rf !== undefined && counted) res.restartFloor.push(rf);
      log(`  ${label} restart floor ${rf === undefined ? 'failed' : fmt(rf)}`);
    }
    // Where the CPU goes (not timed): converged rig and the curve25519 floor, alternating, on the converged hosts.
    for (let i = 0; i < 3; i++) {
      const f = await attempt(res.failures, `N=${n} CPU pass ${i + 1}, floor`, () => b.cpuOf(() => b.floorCpuMs()));
      const v = await attempt(res.failures, `N=${n} CPU pass ${i + 1}, rig converged`, () => b.cpuOf(async () => (await b.rig()).cpuMs));
      if (f) { res.cpu.floor.client.push(f.client); res.cpu.floor.hosts.push(f.hosts); }
      if (v) { res.cpu.rig.client.push(v.client); res.cpu.rig.hosts.push(v.hosts); }
    }
    log(`  CPU (client + hosts, ms): floor ${res.cpu.floor.client.map((c, i) => `${c} + ${res.cpu.floor.hosts[i]}`).join(', ')}; rig ${res.cpu.rig.client.map((c, i) => `${c} + ${res.cpu.rig.hosts[i]}`).join(', ')}`);
    return res;
  } finally {
    await downBenchFleet(fleet.fleets.length, opts.fleetId);
  }
}

/**
 * rig's converged run of bench/scaling-playbook.ts at each N, on fleets seeded with `--seed files` (no daemons: 1,000
 * hosts fit on one machine); above 200 hosts several fleets (ids from --fleet-id on) joined into one inventory.
 * Each N: bring the fleet up, one untimed changing run (retried), settle, 3 timed converged runs.
 */
async function scalingLine(sizes: number[], opts: Options): Promise<ScalingPoint[]> {
  const out: ScalingPoint[] = [];
  for (const n of sizes) {
    log(`\n== scaling N=${n} (${splitFleetSizes(n).length} fleet(s))`);
    const point: ScalingPoint = { n, fleets: splitFleetSizes(n).length, ms: [], rssKb: [], failures: [], load: [] };
    out.push(point);
    let fleet: BenchFleet | undefined;
    try {
      fleet = await upBenchFleet(n, opts.fleetId, 'files', join(WORK, `fleet-n${n}`));
      const b = new Bench(fleet);
      await settle(opts.settleSeconds);
      await prepareConverged(b, n, SCALING_PLAYBOOK);
      await settle(opts.settleSeconds);
      for (let i = 0; i < 3; i++) {
        point.load.push(loadAverage());
        const r = await attempt(point.failures, `scaling N=${n} run ${i + 1}`, () => b.rig([], '100%', SCALING_PLAYBOOK));
        if (r) { point.ms.push(r.ms); point.rssKb.push(r.rssKb); }
      }
      log(`  rig converged ${point.ms.map(fmt).join(', ')}; peak RSS ${point.rssKb.length ? Math.round(Math.max(...point.rssKb) / 1024) : '?'} MB`);
    } catch (e) {
      point.failures.push(`scaling N=${n}: ${errorText(e)}`);
      log(`  scaling N=${n} FAILED: ${errorText(e)}`);
    } finally {
      await downBenchFleet(splitFleetSizes(n).length, opts.fleetId);
    }
  }
  return out;
}

/** The lines of a failed ansible-playbook run that say why: fatal/ERROR/UNREACHABLE lines and recap lines with failures
 *  (the last lines alone are usually recap lines of hosts that were fine). */
function summarizeAnsibleFailure(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const why = lines.filter((l) => /^(fatal|ERROR|An exception occurred)|UNREACHABLE!|(failed|unreachable)=[1-9]/.test(l) || /^\S+ failed \(\d+\)/.test(l));
  return (why.length ? why : lines.slice(-3)).slice(0, 6).join(' / ').replace(/\s+/g, ' ').slice(0, 600);
}

/**
 * Bring a scaling fleet to the converged state (untimed). From 100 hosts on, workers move in batches of 25: the
 * changing run restarts 2 stand-in daemons per worker, and 200 hosts restarting 400 Node processes at once on a
 * 2-core machine delayed the workers' TLS checks past their 60 s wait (an operator would roll a cluster that size in
 * batches too). Hosts that still fail are retried by running again, at most twice.
 */
async function prepareConverged(b: Bench, n: number, playbook = PLAYBOOK): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try { await b.rig([], n >= 100 ? '25' : '100%', playbook); return; } catch (e) {
      if (attempt === 3) throw e;
      log(`  preparing the converged state, attempt ${attempt} failed; settling and running again`);
      await settle(120);
    }
  }
}


/** Wait until the fleet's boot (N sshd + 2N stand-in daemons starting) has calmed down: 1-minute load < cores. */
/**
 * Wait (at most 30 s) until the machine's CPUs are mostly idle over one second (≥ 75 %): before every converged run
 * and every floor, whichever tool. A changing run restarts the fleet's stand-in daemons (two Node processes per
 * worker) on this machine's own cores; on real hosts they would start on their own CPUs, not the controller's. The
 * same wait for every tool and floor, so the converged runs compare like with like. Resolves true (for `&&` chains).
 */
async function quiesce(): Promise<true> {
  const sample = (): { idle: number; total: number } => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3]! + (f[4] ?? 0), total: f.reduce((a, x) => a + x, 0) };
  };
  const t0 = Date.now();
  while (Date.now() - t0 < 30_000) {
    const a = sample();
    await new Promise((r) => setTimeout(r, 1000));
    const b = sample();
    if (b.total > a.total && (b.idle - a.idle) / (b.total - a.total) >= 0.75) break;
  }
  return true;
}

async function settle(maxSeconds: number): Promise<void> {
  if (maxSeconds === 0) return;
  const t0 = Date.now(); const maxMs = maxSeconds * 1000;
  const load = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  await new Promise((r) => setTimeout(r, Math.min(15_000, maxMs)));
  while (load() > cpus().length && Date.now() - t0 < maxMs) await new Promise((r) => setTimeout(r, 5_000));
  log(`  settled after ${Math.round((Date.now() - t0) / 1000)} s (load ${load()})`);
}


async function isMitogenInstalled(): Promise<boolean> {
  return (await timeCommand(['dpkg-query', '-W', '-f=${Status}', 'ansible-mitogen'])).stdout.includes('install ok installed');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  mkdirSync(WORK, { recursive: true });
  const started = { at: new Date(), load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') };
  const previous = existsSync(opts.out) ? readFileSync(opts.out, 'utf8') : '';
  const results: SizeResult[] = [];
  const scaling: ScalingPoint[] = [];
  // Startup first, before any fleet loads the machine.
  const startupFailures: string[] = [];
  const startupResult = await attempt(startupFailures, 'startup', () => measureStartup(opts.startupRuns));
  const startup = startupResult ? renderStartup(startupResult) : startupFailures.map((f) => `Startup not measured: ${f}`);
  const mitogen = await isMitogenInstalled();
  // Written after each size, so a long run that is stopped still leaves what it measured.
  for (const n of opts.sizes) {
    try { results.push(await benchSize(n, opts, mitogen)); } catch (e) {
      log(`  N=${n} FAILED: ${errorText(e)}`);
      results.push({ n, rig: { changing: [], converged: [], rssKb: [] }, ansible: { changing: [], converged: [] }, mitogen: { changing: [], converged: [] }, mitogenNote: '',
        floor: [], floorDefaultKex: [], restartFloor: [], roundTrips: { changing: 0, converged: 0 }, failures: [`N=${n}: ${errorText(e)}`], load: [],
        cpu: { rig: { client: [], hosts: [] }, floor: { client: [], hosts: [] } } });
    }
    writeSitting(opts.out, renderSitting(opts, started, results, scaling, startup), previous);
  }
  if (opts.scaling.length) scaling.push(...await scalingLine(opts.scaling, opts));
  const sitting = renderSitting(opts, started, results, scaling, startup);
  writeSitting(opts.out, sitting, previous);
  log(`\n${sitting}\nwritten to ${opts.out}`);
}

main().catch((e: unknown) => { process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`); process.exitCode = 1; });
