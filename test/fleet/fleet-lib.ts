/**
 * A fleet of real, isolated SSH hosts on this machine (root only): per host a network namespace joined to a bridge by
 * a veth pair, and its own mount/pid/uts/ipc namespaces whose root is an overlayfs (lower = the machine's `/`, upper =
 * `<dir>/hosts/<name>/upper`), running tini → sshd (+ the stand-in Kubernetes daemons). Names and addresses: see
 * fleet-layout.ts (`master1`, `worker1..N-1`; `10.213.<id>.<10+i>`; bridge `rigbr<id>`; netns `rig<id>-<name>`).
 *
 * Files in `dir`: inventory.yaml, ssh_config, known_hosts, id_ed25519(.pub) (fleet key), fleet.json (this Fleet),
 * host-keys/<i>/ (per-host sshd keys, kept across down/up), seed-ca/ (seed CA + cached seed certs, kept), hosts/<name>/
 * (upper, work, root mount point, home = the host's /root, pid, init.log; removed by down). Inside a host `dir` is
 * covered by an empty tmpfs.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import { FleetError } from '../../src/errors.ts';
import { renderInventory, renderKnownHosts, renderSshConfig } from './fleet-files.ts';
import { defaultFleetDir, layoutFleet, MAX_FLEET_ID, MAX_FLEET_SIZE, type HostLayout } from './fleet-layout.ts';
import { ensureSeedPki } from './seed-pki.ts';
import { buildHostFiles, writeHostFiles, type SeedMode } from './seed-host.ts';

export { MAX_FLEET_ID, MAX_FLEET_SIZE, defaultFleetDir, layoutFleet } from './fleet-layout.ts';
export type { SeedMode } from './seed-host.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const HOST_INIT = join(HERE, 'host-init.sh');
const STANDIN_SOURCES = join(HERE, 'standins');
const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const INSTALL_HINT = 'Run as root on Debian 12 after `bash scripts/install-deps.sh` (or `bash .ci/run`).';

export interface FleetOptions {
  /** Number of hosts, 1..200: host 1 is `master1`, the others `worker1..`. */
  readonly size: number;
  /** 1..250; distinct ids give distinct bridges, subnets and netns prefixes, so fleets can run in parallel. @default 1 */
  readonly id?: number;
  /** State directory. @default `<project>/.fleet` (id 1) or `<project>/.fleet-<id>` */
  readonly dir?: string;
  /** Seed the kube-up state: `true`/`'full'` = flag files, certs, init scripts and stand-ins started at boot;
   *  `'files'` = the same but nothing started (cheap for big fleets); `false`/`'none'` = bare hosts. @default 'full' */
  readonly seed?: boolean | SeedMode;
  /** How long to wait for every host's sshd. @default 60_000 */
  readonly timeoutMs?: number;
}

export interface FleetHost {
  /** `master1` for host 1, `worker1`… for the others (also the hostname and the ssh_config/inventory name). */
  readonly name: string;
  readonly ip: string;
  /** Network namespace, `rig<id>-<name>`. */
  readonly netns: string;
  readonly role: 'master' | 'worker';
  /** The host's overlay upper directory (everything the host wrote). */
  readonly upperDir: string;
  /** PID (in the machine's pid namespace) of the host's PID 1 (tini). */
  readonly initPid: number;
}

export interface Fleet {
  readonly id: number;
  readonly dir: string;
  readonly hosts: readonly FleetHost[];
  /** The controller's address on the fleet bridge (hosts reach this machine there). */
  readonly controllerIp: string;
  readonly bridge: string;
  readonly seed: SeedMode;
  readonly inventoryPath: string;
  readonly sshConfigPath: string;
  readonly knownHostsPath: string;
  readonly privateKeyPath: string;
  /** `ca.crt` + `ca.key` of the seed cluster CA (the key never goes to a host). */
  readonly seedCaDir: string;
}

export interface FleetRef {
  /** @default 1 */
  readonly id?: number;
  /** @default defaultFleetDir(id) */
  readonly dir?: string;
}

export interface HostStatus {
  readonly name: string;
  readonly ip: string;
  readonly netns: string;
  readonly running: boolean;
  readonly ssh: boolean;
}

export interface FleetStatus {
  readonly id: number;
  readonly dir: string;
  readonly bridge: boolean;
  readonly hosts: readonly HostStatus[];
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/**
 * `RIG_FLEET_ID_OFFSET=N` shifts every fleet id by N (e.g. to run a test file in a second checkout while another
 * checkout runs the same file: both would otherwise use the same bridge and namespaces). Unset in CI.
 */
function fleetIdOffset(): number {
  const v = process.env.RIG_FLEET_ID_OFFSET;
  return v && /^\d+$/.test(v) ? Number(v) : 0;
}

function resolveRef(ref: FleetRef): { id: number; dir: string } {
  const id = (ref.id ?? 1) + fleetIdOffset();
  if (!Number.isInteger(id) || id < 1 || id > MAX_FLEET_ID) {
    throw new FleetError(`fleet id must be an integer 1..${MAX_FLEET_ID}, got ${id}`, { hint: `Pass --id between 1 and ${MAX_FLEET_ID}.` });
  }
  return { id, dir: resolve(ref.dir ?? defaultFleetDir(id)) };
}

function seedModeOf(seed: FleetOptions['seed']): SeedMode {
  if (seed === undefined || seed === true) return 'full';
  if (seed === false) return 'none';
  if (seed === 'full' || seed === 'files' || seed === 'none') return seed;
  throw new FleetError(`unknown seed mode ${JSON.stringify(seed)}`, { hint: "Use seed: 'full', 'files' or 'none'." });
}

async function run(cmd: string, args: readonly string[], input?: string): Promise<ExecResult> {
  const r = await $({ quiet: true, nothrow: true, ...(input === undefined ? {} : { input }) })`${cmd} ${args}`;
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1 };
}

async function runOrThrow(what: string, cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.exitCode !== 0) throw new FleetError(`${what} failed (exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}`, { hint: INSTALL_HINT });
  return r.stdout;
}

/** Fail early, with a clear message, without root or without the kernel features and programs the fleet needs. */
export async function checkFleetPrerequisites(): Promise<void> {
  if (process.platform !== 'linux') throw new FleetError('the fleet needs Linux (network, mount and pid namespaces, overlayfs)', { hint: INSTALL_HINT });
  if (process.getuid?.() !== 0) throw new FleetError('the fleet needs root (it creates network namespaces, a bridge and overlay mounts)', { hint: 'Run as root, e.g. `sudo npm run fleet -- up 4`.' });
  for (const ns of ['net', 'mnt', 'pid', 'uts', 'ipc']) {
    if (!existsSync(`/proc/self/ns/${ns}`)) throw new FleetError(`the kernel has no ${ns} namespaces (/proc/self/ns/${ns} missing)`, { hint: 'Use a kernel with namespaces enabled (any Debian 12 kernel has them).' });
  }
  const hasOverlay = () => /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  if (!hasOverlay()) await run('modprobe', ['overlay']);
  if (!hasOverlay()) throw new FleetError('the kernel has no overlayfs (not in /proc/filesystems, modprobe overlay failed)', { hint: 'Load the overlay module or use a kernel with CONFIG_OVERLAY_FS.' });
  const missing: string[] = [];
  for (const [bin, pkg] of [['ip', 'iproute2'], ['nsenter', 'util-linux'], ['unshare', 'util-linux'], ['pivot_root', 'util-linux'],
    ['tini', 'tini'], ['sshd', 'openssh-server'], ['ssh-keygen', 'openssh-client'], ['openssl', 'openssl'], ['start-stop-daemon', 'dpkg'],
    ['node', 'nodejs']] as const) {
    if (!HOST_PATH.split(':').some((d) => existsSync(join(d, bin)))) missing.push(`${bin} (${pkg})`);
  }
  if (!existsSync('/usr/bin/node')) missing.push('/usr/bin/node (nodejs; the stand-in daemons run it inside the hosts)');
  if (missing.length) throw new FleetError(`programs the fleet needs are missing: ${missing.join(', ')}`, { hint: INSTALL_HINT });
}

/** Names of this machine's network namespaces. */
async function listNetns(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

/** PIDs whose network namespace is one of `netnsNames` (compares nsfs inodes: no process per namespace). */
async function pidsInNetns(netnsNames: readonly string[]): Promise<number[]> {
  const inodes = new Set<string>();
  for (const n of netnsNames) {
    try { inodes.add(`net:[${(await stat(`/run/netns/${n}`)).ino}]`); } catch { /* gone */ }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try { if (inodes.has(await readlink(`/proc/${entry}/ns/net`))) pids.push(Number(entry)); } catch { /* exited */ }
  }
  return pids;
}

/** A live process with this pid (not a zombie; not a thread of another process whose id happens to be `pid`: /proc
 *  lists threads' ids too, and a dead claimer's pid is soon some thread's). */
function isLive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+[ZX]/m.test(status) && /^Tgid:\s+(\d+)$/m.exec(status)?.[1] === String(pid);
  } catch { return false; }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Remove everything fleet `id` created: processes, netns (and with them veths, mounts), bridge, upper dirs. */
async function teardown(id: number, dir: string): Promise<void> {
  const prefix = `rig${id}-`;
  const netns = (await listNetns()).filter((n) => n.startsWith(prefix));
  const pids = await pidsInNetns(netns);
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  const deadline = Date.now() + 10_000;
  while (pids.some(isLive) && Date.now() < deadline) await sleep(50);
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout.split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined)
    .filter((n) => n === `rigbr${id}` || new RegExp(`^rv${id}h\\d+$`).test(n) || n === isolatedBridgeName(id) || new RegExp(`^rx${id}h\\d+$`).test(n));
  const batch = [...netns.map((n) => `netns del ${n}`), ...links.map((l) => `link del ${l}`)];
  if (batch.length) {
    const r = await run('ip', ['-force', '-batch', '-'], batch.join('\n') + '\n');
    if (r.exitCode !== 0 && !/Cannot find device|No such file/.test(r.stderr)) {
      throw new FleetError(`could not remove fleet ${id} namespaces/links: ${r.stderr.trim()}`, { hint: 'Check `ip netns list` and `ip link`, then retry `npm run fleet -- down`.' });
    }
  }
  // Mounts live in the hosts' private mount namespaces and died with them; catch any that leaked into ours.
  const hostsDir = join(dir, 'hosts');
  const leaked = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === hostsDir || m.startsWith(`${hostsDir}/`)).sort().reverse();
  for (const m of leaked) await run('umount', ['-l', m]);
  await rm(hostsDir, { recursive: true, force: true });
}

async function ensureKeyPair(path: string, comment: string): Promise<{ private: string; public: string }> {
  if (!existsSync(path) || !existsSync(`${path}.pub`)) {
    await rm(path, { force: true });
    await rm(`${path}.pub`, { force: true });
    await runOrThrow('ssh-keygen', 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  }
  await chmod(path, 0o600);
  return { private: await readFile(path, 'utf8'), public: await readFile(`${path}.pub`, 'utf8') };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]!); }
  }));
  return out;
}

function probeBanner(ip: string, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const sock = connect({ host: ip, port: 22 });
    let buf = '';
    const finish = (ok: boolean) => { sock.destroy(); done(ok); };
    sock.setTimeout(timeoutMs, () => finish(false));
    sock.on('data', (d) => { buf += d.toString('latin1'); if (buf.includes('\n')) finish(buf.startsWith('SSH-')); });
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(buf.startsWith('SSH-')));
  });
}

async function prepareHost(h: HostLayout, ctx: { dir: string; hosts: readonly HostLayout[]; mode: SeedMode; fleetPub: string;
  pki?: Awaited<ReturnType<typeof ensureSeedPki>>; standins: ReadonlyMap<string, string>; hostKey: { private: string; public: string } }): Promise<string> {
  const hostDir = join(ctx.dir, 'hosts', h.name);
  for (const d of ['upper', 'work', 'root']) await mkdir(join(hostDir, d), { recursive: true, mode: 0o755 });
  const home = join(hostDir, 'home');
  await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  await chmod(home, 0o700);
  await chmod(join(home, '.ssh'), 0o700);
  for (const f of ['.bashrc', '.profile']) if (existsSync(`/etc/skel/${f}`)) await copyFile(`/etc/skel/${f}`, join(home, f));
  await writeFile(join(home, '.ssh', 'authorized_keys'), ctx.fleetPub, { mode: 0o600 });
  const master = ctx.hosts[0]!;
  await writeHostFiles(join(hostDir, 'upper'), buildHostFiles({
    host: h, master, allHosts: ctx.hosts, hostKey: ctx.hostKey, mode: ctx.mode, ...(ctx.pki ? { pki: ctx.pki } : {}), standins: ctx.standins,
  }));
  return hostDir;
}

function startHost(h: HostLayout, hostDir: string, fleetDir: string, controllerIp: string): void {
  const log = openSync(join(hostDir, 'init.log'), 'w');
  try {
    const child = spawn('nsenter', [`--net=/run/netns/${h.netns}`, '--', 'unshare', '--mount', '--uts', '--ipc', '--pid', '--fork',
      '--kill-child', '--propagation', 'private', '--', '/bin/sh', HOST_INIT, h.netns], {
      detached: true, stdio: ['ignore', log, log],
      env: { PATH: HOST_PATH, HOME: '/root', LANG: 'C.UTF-8', RIG_NAME: h.name, RIG_IP: h.ip, RIG_GW: controllerIp, RIG_HOSTDIR: hostDir, RIG_HIDE: fleetDir },
    });
    child.on('error', () => { /* reported through readiness */ });
    child.unref();
  } finally { closeSync(log); }
}

async function waitHostReady(h: HostLayout, hostDir: string, deadline: number): Promise<number> {
  const pidFile = join(hostDir, 'pid');
  let pid = 0;
  while (Date.now() < deadline) {
    if (!pid && existsSync(pidFile)) pid = Number(readFileSync(pidFile, 'utf8').trim()) || 0;
    if (pid && existsSync(`/proc/${pid}/root/run/rig-fleet-ready`) && await probeBanner(h.ip, 2000)) return pid;
    if (pid && !isLive(pid)) break;
    await sleep(pid ? 25 : 15);
  }
  let log = '';
  try { log = readFileSync(join(hostDir, 'init.log'), 'utf8').trim().split('\n').slice(-8).join('\n'); } catch { /* none */ }
  throw new FleetError(`host ${h.name} (${h.ip}) did not come up: ${pid ? (isLive(pid) ? 'sshd did not answer' : 'its init exited') : 'its init never started'}${log ? `\n${log}` : ''}`,
    { host: h.name, file: join(hostDir, 'init.log'), hint: 'Read the init log; check that overlayfs, tini and openssh-server work here (`bash scripts/install-deps.sh`).' });
}

/** Bring up a fleet of `size` hosts (tearing down leftovers of the same id first). Resolves when every sshd answers. */
export async function upFleet(options: FleetOptions): Promise<Fleet> {
  const { id, dir } = resolveRef(options);
  const size = options.size;
  if (!Number.isInteger(size) || size < 1 || size > MAX_FLEET_SIZE) {
    throw new FleetError(`fleet size must be an integer 1..${MAX_FLEET_SIZE}, got ${size}`, { hint: 'Ask for between 1 and 200 hosts.' });
  }
  const mode = seedModeOf(options.seed);
  await checkFleetPrerequisites();
  await claimFleetId(id, options.timeoutMs ?? 600_000);
  await teardown(id, dir);
  const layout = layoutFleet(id, size);
  await mkdir(join(dir, 'hosts'), { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const privateKeyPath = join(dir, 'id_ed25519');
  const fleetKey = await ensureKeyPair(privateKeyPath, `rig-fleet-${id}`);
  const hostKeys = await mapLimit(layout.hosts, 8, async (h) => {
    await mkdir(join(dir, 'host-keys', String(h.index)), { recursive: true, mode: 0o700 });
    return ensureKeyPair(join(dir, 'host-keys', String(h.index), 'ssh_host_ed25519_key'), `root@${h.name}`);
  });
  const seedCaDir = join(dir, 'seed-ca');
  const master = layout.hosts[0]!;
  const pki = mode === 'none' ? undefined : await ensureSeedPki(seedCaDir, master.ip, master.name);
  const standins = new Map<string, string>();
  for (const f of readdirSync(STANDIN_SOURCES).filter((n) => n.endsWith('.mjs'))) standins.set(f, readFileSync(join(STANDIN_SOURCES, f), 'utf8'));
  const hostDirs = await mapLimit(layout.hosts, 16, (h) => prepareHost(h, {
    dir, hosts: layout.hosts, mode, fleetPub: fleetKey.public, ...(pki ? { pki } : {}), standins, hostKey: hostKeys[h.index - 1]!,
  }));

  const batch = [`link add ${layout.bridge} type bridge`, `addr add ${layout.controllerIp}/24 dev ${layout.bridge}`, `link set ${layout.bridge} up`];
  for (const h of layout.hosts) {
    batch.push(`netns add ${h.netns}`, `link add ${h.veth} type veth peer name eth0 netns ${h.netns}`, `link set ${h.veth} master ${layout.bridge} up`);
  }
  try {
    await runOrThrow(`creating bridge ${layout.bridge} and ${size} network namespaces`, 'ip', ['-batch', '-'], batch.join('\n') + '\n');
    for (const [i, h] of layout.hosts.entries()) startHost(h, hostDirs[i]!, dir, layout.controllerIp);
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    const pids = await Promise.all(layout.hosts.map((h, i) => waitHostReady(h, hostDirs[i]!, deadline)));
    const fleet: Fleet = {
      id, dir, controllerIp: layout.controllerIp, bridge: layout.bridge, seed: mode,
      hosts: layout.hosts.map((h, i) => ({ name: h.name, ip: h.ip, netns: h.netns, role: h.role, upperDir: join(hostDirs[i]!, 'upper'), initPid: pids[i]! })),
      inventoryPath: join(dir, 'inventory.yaml'), sshConfigPath: join(dir, 'ssh_config'), knownHostsPath: join(dir, 'known_hosts'),
      privateKeyPath, seedCaDir,
    };
    await writeFile(fleet.inventoryPath, renderInventory(fleet.hosts, privateKeyPath));
    await writeFile(fleet.sshConfigPath, renderSshConfig(fleet.hosts, privateKeyPath, fleet.knownHostsPath));
    await writeFile(fleet.knownHostsPath, renderKnownHosts(fleet.hosts, hostKeys.map((k) => k.public)));
    await writeFile(join(dir, 'fleet.json'), JSON.stringify(fleet, null, 2) + '\n');
    return fleet;
  } catch (e) {
    await teardown(id, dir).catch(() => undefined);
    throw e;
  }
}

/** Tear fleet `id` down completely (safe to call when nothing is up). Keeps the fleet key, host keys and seed CA. */
export async function downFleet(ref: FleetRef = {}): Promise<void> {
  const { id, dir } = resolveRef(ref);
  // A test whose upFleet gave up waiting for the id still runs its after-hook downFleet: it must not tear down the
  // fleet of the process that holds the id (seen: a bench's fleet removed under it by such a test, and back).
  const holder = fleetIdHolder(id);
  if (holder && holder !== process.pid) throw new FleetError(`fleet id ${id} is in use by process ${holder}: not torn down`, { hint: 'Let that process finish, or use other ids (RIG_FLEET_ID_OFFSET).' });
  await checkFleetPrerequisites();
  await teardown(id, dir);
  await rm(join(dir, 'fleet.json'), { force: true });
  releaseFleetId(id);
}

const CLAIMS_DIR = '/run/rig-fleet-claims';

/**
 * Claim fleet id `id` for this process (`/run/rig-fleet-claims/<id>` holds the claimer's pid): two processes that
 * bring up the same id (two checkouts running the same test file) take turns instead of tearing down each other's
 * hosts. A claim whose process is gone is taken over; the claim is released by `downFleet`.
 */
async function claimFleetId(id: number, timeoutMs: number): Promise<void> {
  mkdirSync(CLAIMS_DIR, { recursive: true, mode: 0o700 });
  const file = join(CLAIMS_DIR, String(id));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { writeFileSync(file, String(process.pid), { flag: 'wx' }); return; } catch { /* held */ }
    let holder = 0;
    try { holder = Number(readFileSync(file, 'utf8')); } catch { continue; }
    if (holder === process.pid) return;
    if (!holder || !isLive(holder)) { rmSync(file, { force: true }); continue; }
    if (Date.now() > deadline) throw new FleetError(`fleet id ${id} is in use by process ${holder}`, { hint: 'Wait for it, or set RIG_FLEET_ID_OFFSET to use other ids.' });
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The live process that holds fleet id `id`, if any. */
function fleetIdHolder(id: number): number | undefined {
  let holder = 0;
  try { holder = Number(readFileSync(join(CLAIMS_DIR, String(id)), 'utf8')); } catch { return undefined; }
  return holder && isLive(holder) ? holder : undefined;
}

function releaseFleetId(id: number): void {
  const file = join(CLAIMS_DIR, String(id));
  try { if (Number(readFileSync(file, 'utf8')) === process.pid) rmSync(file, { force: true }); } catch { /* none */ }
}

/** The fleet last brought up with this id/dir (from `<dir>/fleet.json`), e.g. after `npm run fleet -- up`. */
export async function loadFleet(ref: FleetRef = {}): Promise<Fleet> {
  const { id, dir } = resolveRef(ref);
  const file = join(dir, 'fleet.json');
  if (!existsSync(file)) throw new FleetError(`fleet ${id} is not up (no ${file})`, { file, hint: `Run \`npm run fleet -- up 4 --id ${id}\` first.` });
  return JSON.parse(await readFile(file, 'utf8')) as Fleet;
}

/** Per host: is its init alive in its namespace, does its sshd answer. */
export async function statusFleet(ref: FleetRef = {}): Promise<FleetStatus> {
  const { id, dir } = resolveRef(ref);
  const bridge = existsSync(`/sys/class/net/rigbr${id}`);
  if (!existsSync(join(dir, 'fleet.json'))) return { id, dir, bridge, hosts: [] };
  const fleet = await loadFleet({ id, dir });
  const hosts = await Promise.all(fleet.hosts.map(async (h) => {
    const running = await isHostInit(h);
    return { name: h.name, ip: h.ip, netns: h.netns, running, ssh: running && await probeBanner(h.ip, 2000) };
  }));
  return { id, dir, bridge, hosts };
}

async function isHostInit(h: FleetHost): Promise<boolean> {
  try {
    return isLive(h.initPid) && (await readlink(`/proc/${h.initPid}/ns/net`)) === `net:[${(await stat(`/run/netns/${h.netns}`)).ino}]`;
  } catch { return false; }
}

function findHost(fleet: Fleet, hostName: string): FleetHost {
  const h = fleet.hosts.find((x) => x.name === hostName || x.ip === hostName);
  if (!h) throw new FleetError(`no host ${JSON.stringify(hostName)} in fleet ${fleet.id}`, { host: hostName, hint: `Use one of: ${fleet.hosts.map((x) => x.name).join(', ')}.` });
  return h;
}

/** A path inside a host's root as seen from the controller (`/proc/<init>/root/...`): cheap reads of host files. */
export function hostPath(fleet: Fleet, hostName: string, path: string): string {
  return `/proc/${findHost(fleet, hostName).initPid}/root${path.startsWith('/') ? '' : '/'}${path}`;
}

/** Run a command inside a host's namespaces (not over SSH), as root in `/`, with `input` on stdin. Never throws on
 *  a non-zero exit; throws FleetError when the host is not running. */
export async function execInHost(fleet: Fleet, hostName: string, argv: string[], input?: string): Promise<ExecResult> {
  const h = findHost(fleet, hostName);
  if (!(await isHostInit(h))) throw new FleetError(`host ${h.name} of fleet ${fleet.id} is not running`, { host: h.name, hint: `Bring the fleet up again (\`npm run fleet -- up ${fleet.hosts.length} --id ${fleet.id}\`).` });
  if (argv.length === 0) throw new FleetError('execInHost needs a command', { host: h.name, hint: "Pass argv, e.g. ['hostname']." });
  const r = await $({ quiet: true, nothrow: true, env: { PATH: HOST_PATH, HOME: '/root', LANG: 'C.UTF-8' }, ...(input === undefined ? { stdio: ['ignore', 'pipe', 'pipe'] } : { input }) })`nsenter -t ${h.initPid} -m -u -i -n -p -r -w -- ${argv}`;
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1 };
}

/** The isolated bridge of fleet `id` (no address on the controller: the controller cannot reach hosts on it). */
function isolatedBridgeName(id: number): string {
  return `rigbi${id}`;
}

export interface IsolatedNetworkOptions {
  /** Hosts that get a second interface (eth1) on the isolated bridge and keep eth0 on the controller's bridge. */
  readonly dualHomed?: readonly string[];
  /** Hosts moved to the isolated bridge only: their eth0 (the controller's bridge) is removed. */
  readonly isolated?: readonly string[];
}

export interface IsolatedNetwork {
  /** `rigbi<id>`: a bridge with no address in the controller's namespace, and no forwarding to it. */
  readonly bridge: string;
  /** `10.214.<id>.0/24`. */
  readonly subnet: string;
  /** Each dual-homed or isolated host's address on the isolated bridge (`10.214.<id>.<10+i>`). */
  readonly addresses: ReadonlyMap<string, string>;
}

/**
 * Put some hosts of a running fleet on a second, isolated bridge (a bastion topology): dual-homed hosts reach both
 * networks, isolated hosts only the isolated one, and the controller only the first. `downFleet` removes it all.
 */
export async function attachIsolatedNetwork(fleet: Fleet, options: IsolatedNetworkOptions): Promise<IsolatedNetwork> {
  const bridge = isolatedBridgeName(fleet.id);
  const base = `10.214.${fleet.id}`;
  const dual = options.dualHomed ?? [];
  const isolated = options.isolated ?? [];
  const members = [...dual, ...isolated].map((n) => ({ host: findHost(fleet, n), index: fleet.hosts.findIndex((h) => h.name === n) + 1 }));
  const batch = [`link add ${bridge} type bridge`, `link set ${bridge} up`];
  for (const { host, index } of members) {
    batch.push(`link add rx${fleet.id}h${index} type veth peer name eth1 netns ${host.netns}`, `link set rx${fleet.id}h${index} master ${bridge} up`);
    if (isolated.includes(host.name)) batch.push(`link del rv${fleet.id}h${index}`);
  }
  await runOrThrow(`creating isolated bridge ${bridge}`, 'ip', ['-batch', '-'], batch.join('\n') + '\n');
  const addresses = new Map<string, string>();
  for (const { host, index } of members) {
    const ip = `${base}.${10 + index}`;
    await runOrThrow(`addressing eth1 of ${host.name}`, 'ip', ['-n', host.netns, '-batch', '-'], `addr add ${ip}/24 dev eth1\nlink set eth1 up\n`);
    addresses.set(host.name, ip);
  }
  // sshd listens on every address: check that each member answers on its new one (from inside its own namespace)
  for (const { host } of members) {
    const ip = addresses.get(host.name)!;
    await runOrThrow(`probing sshd of ${host.name} on ${ip}`, 'ip', ['netns', 'exec', host.netns, 'bash', '-c', `exec 3<>/dev/tcp/${ip}/22`]);
  }
  return { bridge, subnet: `${base}.0/24`, addresses };
}
