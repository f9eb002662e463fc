/**
 * What each fleet host holds in its own layer at `up`: identity (hostname, /etc/hosts, sshd host key and drop-in),
 * the boot script tini runs, and, when seeded, the kube-up.sh-era state (flag files in /etc/default, /srv/kubernetes on
 * the master) plus the stand-in daemons and their sysv init scripts. `buildHostFiles` is pure; `writeHostFiles` puts
 * the files into an overlay upper dir before the host mounts it.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SeedPki } from './seed-pki.ts';

/** `none`: bare hosts; `files`: flag files, certs, stand-in programs and init scripts, nothing started;
 *  `full`: the same, and the stand-ins are started at boot. */
export type SeedMode = 'none' | 'files' | 'full';

export interface HostFile {
  readonly path: string;
  readonly content: string | Buffer;
  /** @default 0o644 */
  readonly mode?: number;
}

export interface SeedHost {
  readonly name: string;
  readonly ip: string;
  readonly role: 'master' | 'worker';
}

export interface HostSeedInput {
  readonly host: SeedHost;
  readonly master: SeedHost;
  readonly allHosts: readonly SeedHost[];
  readonly hostKey: { readonly private: string; readonly public: string };
  readonly mode: SeedMode;
  /** Required unless mode is `none`. */
  readonly pki?: SeedPki;
  /** Stand-in programs by file name (e.g. `kube-agent.mjs`), installed in /usr/local/lib/rig-standins/. */
  readonly standins?: ReadonlyMap<string, string>;
}

export const STANDIN_DIR = '/usr/local/lib/rig-standins';
export const BOOT_SCRIPT = '/usr/local/lib/rig-fleet/boot.sh';

const SERVICES = {
  'kube-apiserver': { args: ['kube-apiserver.mjs'] },
  kubelet: { args: ['kube-agent.mjs', 'kubelet'] },
  'kube-proxy': { args: ['kube-agent.mjs', 'kube-proxy'] },
} as const;
type ServiceName = keyof typeof SERVICES;

/** The seeded `/etc/default` flag files of a host, exactly as an old kube-up.sh bare-metal cluster left them. */
export function renderKubeDefaults(host: SeedHost, master: SeedHost): Map<string, string> {
  const files = new Map<string, string>();
  if (host.role === 'master') {
    files.set('/etc/default/kube-apiserver', `KUBE_APISERVER_OPTS=" --insecure-bind-address=0.0.0.0 --insecure-port=8080 --etcd-servers=http://127.0.0.1:4001 --logtostderr=true --service-cluster-ip-range=192.168.3.0/24 --admission-control=NamespaceLifecycle,LimitRanger,ServiceAccount,SecurityContextDeny,ResourceQuota --service-node-port-range=30000-32767 --advertise-address=${master.ip} --client-ca-file=/srv/kubernetes/ca.crt --tls-cert-file=/srv/kubernetes/server.cert --tls-private-key-file=/srv/kubernetes/server.key"\n`);
  }
  files.set('/etc/default/kubelet', `KUBELET_OPTS=" --hostname-override=${host.ip}  --api-servers=http://${master.ip}:8080 --logtostderr=true  --cluster-dns=192.168.3.10  --cluster-domain=cluster.local  --config=  "\n`);
  files.set('/etc/default/kube-proxy', `KUBE_PROXY_OPTS=" --hostname-override=${host.ip}  --master=http://${master.ip}:8080 --logtostderr=true  "\n`);
  return files;
}

/** A sysv init script (`start|stop|restart|force-reload|status`) for a stand-in, run by start-stop-daemon. */
export function renderInitScript(service: ServiceName): string {
  const args = SERVICES[service].args.map((a, i) => (i === 0 ? `${STANDIN_DIR}/${a}` : a)).join(' ');
  return `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ${service}
# Required-Start:    $network
# Required-Stop:     $network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: rig stand-in ${service} (reads /etc/default/${service} on every start)
### END INIT INFO
NAME=${service}
DAEMON=/usr/bin/node
PIDFILE=/run/$NAME.pid

do_start() {
  start-stop-daemon --start --quiet --oknodo --background --make-pidfile --pidfile "$PIDFILE" \\
    --exec "$DAEMON" -- ${args}
  # The background child execs node a moment later: wait (up to 10 s) until status sees it, so that
  # "start; status" never reports "not running" on a loaded machine.
  rig_n=0
  while [ $rig_n -lt 100 ] && ! start-stop-daemon --status --pidfile "$PIDFILE" --exec "$DAEMON"; do sleep 0.1; rig_n=$((rig_n + 1)); done
}
do_stop() {
  start-stop-daemon --stop --quiet --oknodo --retry TERM/5/KILL/5 --pidfile "$PIDFILE" --exec "$DAEMON"
  rm -f "$PIDFILE"
}
case "$1" in
  start) echo "Starting $NAME"; do_start ;;
  stop) echo "Stopping $NAME"; do_stop ;;
  restart|force-reload) echo "Restarting $NAME"; do_stop; do_start ;;
  status)
    if start-stop-daemon --status --pidfile "$PIDFILE" --exec "$DAEMON"; then echo "$NAME is running"; exit 0; fi
    echo "$NAME is not running"; exit 3 ;;
  *) echo "Usage: /etc/init.d/$NAME {start|stop|restart|force-reload|status}" >&2; exit 2 ;;
esac
`;
}

function servicesOf(host: SeedHost): ServiceName[] {
  return host.role === 'master' ? ['kube-apiserver', 'kubelet', 'kube-proxy'] : ['kubelet', 'kube-proxy'];
}

/** Every file a host gets in its upper layer. */
export function buildHostFiles(input: HostSeedInput): HostFile[] {
  const { host, mode } = input;
  const services = mode === 'none' ? [] : servicesOf(host);
  const files: HostFile[] = [
    { path: '/etc/hostname', content: `${host.name}\n` },
    { path: '/etc/hosts', content: `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${input.allHosts.map((h) => `${h.ip}\t${h.name}\n`).join('')}` },
    { path: '/etc/ssh/ssh_host_ed25519_key', content: input.hostKey.private, mode: 0o600 },
    { path: '/etc/ssh/ssh_host_ed25519_key.pub', content: input.hostKey.public },
    { path: '/etc/ssh/sshd_config.d/rig-fleet.conf', content: 'HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\n'
      + 'PasswordAuthentication no\nMaxStartups 100:30:200\nMaxSessions 64\nUseDNS no\n' },
    { path: BOOT_SCRIPT, mode: 0o755, content: `#!/bin/sh
# Run by tini (PID 1) in fleet host ${host.name}: sshd, then the stand-ins (seed mode ${mode}), then idle.
mkdir -p /run/sshd /var/log
/usr/sbin/sshd
while [ ! -s /run/sshd.pid ]; do sleep 0.02; done
: > /run/rig-fleet-ready
${mode === 'full' ? services.map((s) => `service ${s} start >/dev/null 2>&1 || true\n`).join('') : ''}exec sleep infinity
` },
  ];
  if (mode === 'none') return files;
  const pki = input.pki;
  if (!pki) throw new TypeError('buildHostFiles: pki is required when seeding');
  for (const [path, content] of renderKubeDefaults(host, input.master)) files.push({ path, content });
  for (const s of services) files.push({ path: `/etc/init.d/${s}`, content: renderInitScript(s), mode: 0o755 });
  for (const [name, content] of input.standins ?? []) files.push({ path: `${STANDIN_DIR}/${name}`, content });
  if (host.role === 'master') {
    files.push({ path: '/srv/kubernetes/ca.crt', content: pki.caCrt },
      { path: '/srv/kubernetes/server.cert', content: pki.serverCert },
      { path: '/srv/kubernetes/server.key', content: pki.serverKey, mode: 0o600 },
      { path: '/srv/kubernetes/kubecfg.crt', content: pki.kubecfgCrt },
      { path: '/srv/kubernetes/kubecfg.key', content: pki.kubecfgKey, mode: 0o600 });
  }
  return files;
}

/** Write files under `root` (an upper dir); missing parent dirs are made 0755 like the machine's own. */
export async function writeHostFiles(root: string, files: readonly HostFile[]): Promise<void> {
  const dirs = new Set(files.map((f) => dirname(join(root, f.path))));
  for (const d of dirs) await mkdir(d, { recursive: true, mode: 0o755 });
  await Promise.all(files.map(async (f) => {
    const p = join(root, f.path);
    await writeFile(p, f.content, { mode: f.mode ?? 0o644 });
    await chmod(p, f.mode ?? 0o644);
  }));
}
