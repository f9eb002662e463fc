/**
 * rig against Ansible on the same fleet, the same job, in one run (issue 8). Not a test: nothing is asserted.
 *
 *   npm run bench -- [N...] [--runs R] [--scaling N,N,...] [--scaling-only] [--out FILE] [--settle SECONDS] [--fleet-id ID]
 *
 * For each N (default 10 50): bring the fleet up (seeded old cluster), issue the job's certificates once (rig's PKI;
 * Ansible copies the same files), then alternate the tools round by round (A B, B A, …) after one warm-up round:
 * each round re-seeds every host, times the changing run, then the converged run. The floor: N parallel OpenSSH
 * connections each reading the job's target files in one command. Ansible runs twice over: plain and with the
 * ansible-mitogen strategy (when installed). rig's runs go through /usr/bin/time for peak RSS
 * and `--json --stats` for SSH round trips per host. Results go to bench/RESULTS.md (and the terminal).
 */
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../test/fleet/fleet-lib.ts';
import { PROJECT_ROOT } from '../test/fleet/fleet-layout.ts';

const WORK = join(PROJECT_ROOT, 'bench', '.work');
const RIG = join(PROJECT_ROOT, 'bin', 'rig.js');
const PLAYBOOK = 'playbooks/secure-cluster.ts';
const ANSIBLE_PLAYBOOK = join(PROJECT_ROOT, 'bench', 'ansible', 'secure-cluster.yml');
/** Paths the job changes; the seed snapshot restores them between changing runs. */
const SEED_PATHS = ['srv/kubernetes', 'etc/default/kubelet', 'etc/default/kube-proxy', 'etc/default/kube-apiserver', 'var/lib/kubelet', 'var/lib/kube-proxy'];
const TARGETS = ['/srv/kubernetes/ca.crt', '/srv/kubernetes/server.cert', '/srv/kubernetes/kubelet.crt', '/srv/kubernetes/kube-proxy.crt', '/srv/kubernetes/basic_auth.csv',
  '/var/lib/kubelet/kubeconfig', '/var/lib/kube-proxy/kubeconfig', '/etc/default/kubelet', '/etc/default/kube-proxy', '/etc/default/kube-apiserver'];

interface Options {
  readonly sizes: number[];
  readonly runs: number;
  readonly scaling: number[];
  readonly out: string;
  /** Longest wait, in seconds, for the fleet's boot load to settle before measuring (default 180; 0 for smoke runs). */
  readonly settleSeconds: number;
  /** Fleet id to bring up (default 60; the test suite's fleets use lower ids). */
  readonly fleetId: number;
}

function parseOptions(argv: readonly string[]): Options {
  const sizes: number[] = []; let runs = 5; let scaling: number[] = []; let out = join(PROJECT_ROOT, 'bench', 'RESULTS.md'); let settleSeconds = 180; let fleetId = 60; let scalingOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--scaling') scaling = argv[++i]!.split(',').map(Number);
    else if (a === '--scaling-only') scalingOnly = true;
    else if (a === '--out') out = argv[++i]!;
    else if (a === '--settle') settleSeconds = Number(argv[++i]);
    else if (a === '--fleet-id') fleetId = Number(argv[++i]);
    else if (/^\d+$/.test(a)) sizes.push(Number(a));
    else throw new Error(`unknown argument ${a} (usage: npm run bench -- [N...] [--runs R] [--scaling 10,50,100,200] [--scaling-only] [--out FILE] [--settle SECONDS] [--fleet-id ID])`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  if (!(settleSeconds >= 0)) throw new Error('--settle must be a number of seconds');
  if (scalingOnly && !scaling.length) throw new Error('--scaling-only needs --scaling N,N,...');
  return { sizes: scalingOnly ? [] : sizes.length ? sizes : [10, 50], runs, scaling, out, settleSeconds, fleetId };
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

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const fmt = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const spread = (xs: number[]): string => `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;

class Bench {
  readonly pkiDir: string;
  readonly stateDir: string;
  readonly rssFile: string;

  constructor(readonly fleet: Fleet) {
    const dir = join(WORK, `n${fleet.hosts.length}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    this.pkiDir = join(dir, 'pki');
    this.stateDir = join(dir, 'state');
    this.rssFile = join(dir, 'rss');
  }

  get master(): string { return this.fleet.hosts.find((h) => h.role === 'master')!.ip; }

  rigArgs(cmd: string, extra: string[] = []): string[] {
    return ['/usr/bin/time', '-f', '%M', '-o', this.rssFile, process.execPath, RIG, cmd, '-i', this.fleet.inventoryPath, '--ssh-config', this.fleet.sshConfigPath,
      '--state-dir', this.stateDir, '--forks', String(this.fleet.hosts.length), '-e', `pki_dir=${this.pkiDir}`, ...extra, PLAYBOOK];
  }

  /** One `rig apply`; all workers in one batch unless `workerSerial` says otherwise. */
  async rig(extra: string[] = [], workerSerial = '100%'): Promise<Timed & { rssKb: number; roundTrips?: number }> {
    const r = await timeCommand(this.rigArgs('apply', ['-e', `worker_serial=${workerSerial}`, ...extra]), { ...process.env, NO_COLOR: '1' });
    if (r.code !== 0) throw new Error(`rig apply failed (${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const rssKb = Number(readFileSync(this.rssFile, 'utf8').trim().split('\n').pop());
    let roundTrips: number | undefined;
    if (extra.includes('--stats')) {
      const stats = (JSON.parse(r.stdout) as { stats: Array<{ roundTrips: number }> }).stats;
      roundTrips = Math.max(...stats.map((s) => s.roundTrips));
    }
    return { ...r, rssKb, ...(roundTrips !== undefined ? { roundTrips } : {}) };
  }

  /** One ansible-playbook run; `mitogen` switches to Debian's ansible-mitogen `mitogen_linear` strategy. */
  async ansible(mitogen = false): Promise<Timed> {
    const cp = join(WORK, 'cp');
    mkdirSync(cp, { recursive: true });
    const r = await timeCommand(['ansible-playbook', '-i', this.fleet.inventoryPath, '-f', String(this.fleet.hosts.length), ANSIBLE_PLAYBOOK,
      '-e', `pki_dir=${this.pkiDir}`, '-e', `master_address=${this.master}`], {
      ...process.env, ANSIBLE_CONFIG: join(PROJECT_ROOT, 'bench', 'ansible', 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', ANSIBLE_PIPELINING: 'True',
      ANSIBLE_SSH_ARGS: `-F ${this.fleet.sshConfigPath} -o ControlMaster=auto -o ControlPersist=300s`, ANSIBLE_SSH_CONTROL_PATH_DIR: cp,
      ...(mitogen ? { ANSIBLE_STRATEGY: 'mitogen_linear' } : {}),
    });
    if (r.code !== 0) throw new Error(`ansible-playbook${mitogen ? ' (mitogen)' : ''} failed (${r.code}): ${summarizeAnsibleFailure(`${r.stdout}\n${r.stderr}`)}`);
    return r;
  }

  /** N parallel OpenSSH connections, each reading the job's target files in one command. */
  async floor(): Promise<number> {
    const t0 = process.hrtime.bigint();
    await Promise.all(this.fleet.hosts.map((h) => timeCommand(['ssh', '-F', this.fleet.sshConfigPath, '-o', 'ControlMaster=no', '-o', 'ControlPath=none', h.name,
      `cat ${TARGETS.join(' ')} 2>/dev/null | sha256sum`])));
    return Number(process.hrtime.bigint() - t0) / 1e6;
  }

  async snapshotSeed(): Promise<void> {
    const script = `cd / && tar czf /var/tmp/rig-bench-seed.tgz $(for p in ${SEED_PATHS.join(' ')}; do [ -e "$p" ] && echo "$p"; done)`;
    await Promise.all(this.fleet.hosts.map((h) => execInHost(this.fleet, h.name, ['sh', '-c', script])));
  }

  async reseed(): Promise<void> {
    const script = `rm -rf /srv/kubernetes /var/lib/kubelet /var/lib/kube-proxy /var/lib/rig && tar xzf /var/tmp/rig-bench-seed.tgz -C /`;
    await Promise.all(this.fleet.hosts.map((h) => execInHost(this.fleet, h.name, ['sh', '-c', script])));
  }
}

interface SizeResult {
  readonly n: number;
  readonly rig: { changing: number[]; converged: number[]; rssKb: number[] };
  readonly ansible: { changing: number[]; converged: number[] };
  /** Ansible with the mitogen strategy; empty when it was not measured (see `mitogenNote`). */
  readonly mitogen: { changing: number[]; converged: number[] };
  readonly mitogenNote: string;
  readonly floor: number[];
  readonly roundTrips: { changing: number; converged: number };
}

type Tool = 'rig' | 'ansible' | 'mitogen';

async function benchSize(n: number, opts: Options, mitogenInstalled: boolean): Promise<SizeResult> {
  log(`\n== N=${n}: fleet up`);
  const fleet = await upFleet({ size: n, id: opts.fleetId, seed: 'full' });
  try {
    const b = new Bench(fleet);
    await settle(opts.settleSeconds);
    await b.snapshotSeed();
    // Issue the certificates once (rig's PKI); both tools install these same files.
    const plan = await timeCommand(b.rigArgs('plan').slice(5), { ...process.env, NO_COLOR: '1' });
    if (plan.code !== 2) throw new Error(`rig plan (issuing the certificates) exited ${plan.code}: ${plan.stderr.slice(-2000)}`);
    const res: SizeResult & { mitogenNote: string } = { n, rig: { changing: [], converged: [], rssKb: [] }, ansible: { changing: [], converged: [] },
      mitogen: { changing: [], converged: [] }, mitogenNote: '', floor: [], roundTrips: { changing: 0, converged: 0 } };
    // Round trips from --stats (one extra, uncounted pair).
    await b.reseed();
    res.roundTrips.changing = (await b.rig(['--json', '--stats'])).roundTrips ?? 0;
    res.roundTrips.converged = (await b.rig(['--json', '--stats'])).roundTrips ?? 0;
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
      for (const tool of order) {
        await b.reseed();
        if (tool === 'rig') {
          const c = await b.rig(); const v = await b.rig();
          if (round > 0) { res.rig.changing.push(c.ms); res.rig.converged.push(v.ms); res.rig.rssKb.push(c.rssKb, v.rssKb); }
          log(`  ${label} rig      changing ${fmt(c.ms)}, converged ${fmt(v.ms)} (peak RSS ${Math.round(Math.max(c.rssKb, v.rssKb) / 1024)} MB)`);
        } else {
          const m = tool === 'mitogen';
          const c = await b.ansible(m); const v = await b.ansible(m);
          if (round > 0) { res[tool].changing.push(c.ms); res[tool].converged.push(v.ms); }
          log(`  ${label} ${tool.padEnd(8)} changing ${fmt(c.ms)}, converged ${fmt(v.ms)}`);
        }
      }
      const f = await b.floor();
      if (round > 0) res.floor.push(f);
    }
    return res;
  } finally {
    await downFleet({ id: opts.fleetId });
  }
}

/** rig's converged run at each N; sizes already benched above reuse their counted converged runs (same job, same fleet). */
async function scalingLine(sizes: number[], benched: readonly SizeResult[], opts: Options): Promise<Array<{ n: number; ms: number[] }>> {
  const out: Array<{ n: number; ms: number[] }> = [];
  for (const n of sizes) {
    const known = benched.find((r) => r.n === n);
    if (known) { out.push({ n, ms: known.rig.converged }); continue; }
    log(`\n== scaling N=${n}`);
    const fleet = await upFleet({ size: n, id: opts.fleetId, seed: 'full' });
    try {
      const b = new Bench(fleet);
      await settle(opts.settleSeconds);
      await prepareConverged(b, n);
      await settle(opts.settleSeconds);
      const ms: number[] = [];
      for (let i = 0; i < 3; i++) ms.push((await b.rig()).ms);
      log(`  rig converged ${ms.map(fmt).join(', ')}`);
      out.push({ n, ms });
    } finally { await downFleet({ id: opts.fleetId }); }
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
async function prepareConverged(b: Bench, n: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try { await b.rig([], n >= 100 ? '25' : '100%'); return; } catch (e) {
      if (attempt === 3) throw e;
      log(`  preparing the converged state, attempt ${attempt} failed; settling and running again`);
      await settle(120);
    }
  }
}

function log(s: string): void { process.stdout.write(`${s}\n`); }

/** Wait until the fleet's boot (N sshd + 2N stand-in daemons starting) has calmed down: 1-minute load < cores. */
async function settle(maxSeconds: number): Promise<void> {
  if (maxSeconds === 0) return;
  const t0 = Date.now(); const maxMs = maxSeconds * 1000;
  const load = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  await new Promise((r) => setTimeout(r, Math.min(15_000, maxMs)));
  while (load() > cpus().length && Date.now() - t0 < maxMs) await new Promise((r) => setTimeout(r, 5_000));
  log(`  settled after ${Math.round((Date.now() - t0) / 1000)} s (load ${load()})`);
}

const ratio = (rig: number[], other: number[]): string => (other.length ? `${(median(other) / median(rig)).toFixed(1)}×` : '–');

function renderResults(opts: Options, results: SizeResult[], scaling: Array<{ n: number; ms: number[] }>): string {
  const lines: string[] = [];
  lines.push('# Benchmark results: rig vs Ansible on the local fleet', '');
  lines.push(`Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`);
  const args = opts.sizes.length ? [...opts.sizes, '--runs', opts.runs] : ['--scaling-only'];
  lines.push(`Command: \`npm run bench -- ${[...args, ...(opts.scaling.length ? ['--scaling', opts.scaling.join(',')] : [])].join(' ')}\``, '');
  lines.push('Job: `playbooks/secure-cluster.ts` (rig) and `bench/ansible/secure-cluster.yml` (Ansible: file, copy, template, replace, lineinfile,',
    'service handlers, a curl wait; forks = N, pipelining and ControlPersist on, no fact gathering), also run with Debian\'s',
    'ansible-mitogen `mitogen_linear` strategy. All install the same certificates (issued once by rig\'s PKI before the runs).',
    'Every run pair re-seeds each host (old cluster state) before the changing run; the converged run follows it. The tools',
    'rotate round by round after one warm-up round; medians and min–max over the counted rounds. The floor is N parallel',
    'OpenSSH connections (no multiplexing), each reading the job\'s target files in one command, once per round.', '');
  if (results.length) lines.push('| N | run | rig | Ansible | Ansible + mitogen | floor | Ansible / rig | mitogen / rig | rig / floor |', '|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const mit = (xs: number[]): string => (xs.length ? spread(xs) : 'not measured');
    lines.push(`| ${r.n} | changing | ${spread(r.rig.changing)} | ${spread(r.ansible.changing)} | ${mit(r.mitogen.changing)} | | ${ratio(r.rig.changing, r.ansible.changing)} | ${ratio(r.rig.changing, r.mitogen.changing)} | |`);
    lines.push(`| ${r.n} | converged | ${spread(r.rig.converged)} | ${spread(r.ansible.converged)} | ${mit(r.mitogen.converged)} | ${spread(r.floor)} | ${ratio(r.rig.converged, r.ansible.converged)} | ${ratio(r.rig.converged, r.mitogen.converged)} | ${(median(r.rig.converged) / median(r.floor)).toFixed(2)} |`);
  }
  if (results.length) {
    lines.push('', '"Ansible / rig" reads "Ansible takes that many times as long as rig".', '');
    lines.push('| N | counted rounds | SSH round trips per host (rig --stats), changing / converged | controller peak RSS (rig) |', '|---|---|---|---|');
  }
  for (const r of results) lines.push(`| ${r.n} | ${r.rig.converged.length} | ${r.roundTrips.changing} / ${r.roundTrips.converged} | ${Math.round(Math.max(...r.rig.rssKb) / 1024)} MB |`);
  for (const r of results) if (r.mitogenNote) lines.push('', `Ansible with mitogen at N=${r.n}: ${r.mitogenNote}`);
  if (scaling.length) {
    lines.push('', '## Scaling: rig converged run', '', '| N | median | runs | per host |', '|---|---|---|---|');
    for (const s of scaling) lines.push(`| ${s.n} | ${fmt(median(s.ms))} | ${s.ms.length} | ${(median(s.ms) / s.n).toFixed(1)} ms |`);
  }
  return `${lines.join('\n')}\n`;
}

async function isMitogenInstalled(): Promise<boolean> {
  return (await timeCommand(['dpkg-query', '-W', '-f=${Status}', 'ansible-mitogen'])).stdout.includes('install ok installed');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  mkdirSync(WORK, { recursive: true });
  const results: SizeResult[] = [];
  const mitogen = await isMitogenInstalled();
  // Written after each size, so a long run that is stopped still leaves what it measured.
  for (const n of opts.sizes) {
    results.push(await benchSize(n, opts, mitogen));
    writeFileSync(opts.out, renderResults(opts, results, []));
  }
  const scaling = opts.scaling.length ? await scalingLine(opts.scaling, results, opts) : [];
  const text = renderResults(opts, results, scaling);
  writeFileSync(opts.out, text);
  log(`\n${text}\nwritten to ${opts.out}`);
}

main().catch((e: unknown) => { process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`); process.exitCode = 1; });
