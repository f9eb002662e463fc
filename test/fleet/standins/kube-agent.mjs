// Stand-in kubelet / kube-proxy: `node kube-agent.mjs kubelet|kube-proxy`. Reads the API server URL from --api-servers
// (first of a comma list; kubelet) or --master (kube-proxy). When --kubeconfig is given, its CA and client
// certificate/key are used, and its clusters[0].cluster.server is used only if the flag is absent. Every 2 s it calls
// <url>/version over one kept-alive connection (as a real kubelet holds its connection to the apiserver: a fresh TLS
// handshake per poll, times 2 daemons per host, saturated a 2-core machine's master at 200 hosts) and appends one
// line per attempt to /var/log/<name>.log: `<ISO time> GET <url>/version status=<code>` or `... error=<code> <message>`. Problems (bad flags, unreadable files) are logged, never fatal.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { appendLog, readDaemonFlags, readPem } from './flags.mjs';
import { readKubeconfigFields } from './kubeconfig.mjs';

const name = process.argv[2] === 'kube-proxy' ? 'kube-proxy' : 'kubelet';
const LOG = `/var/log/${name}.log`;
const log = (line) => appendLog(LOG, line);
const { flags, problems } = readDaemonFlags(name, name === 'kubelet' ? 'KUBELET_OPTS' : 'KUBE_PROXY_OPTS');
const urlFlag = name === 'kubelet' ? 'api-servers' : 'master';
log(`starting ${name} (rig stand-in) pid=${process.pid} flags=${[...flags].map(([k, v]) => `--${k}=${v}`).join(' ')}`);
for (const p of problems) log(`warning: ${p}`);

let configError;
const tls = {};
let url = flags.get(urlFlag)?.split(',')[0];
const kubeconfig = flags.get('kubeconfig');
if (kubeconfig) {
  let text;
  try { text = readFileSync(kubeconfig, 'utf8'); } catch (e) { configError = `cannot read --kubeconfig ${kubeconfig}: ${e.code ?? e.message}`; }
  if (text !== undefined) {
    const k = readKubeconfigFields(text);
    if (!url && k.server) url = k.server;
    const load = (path, data, what, field) => {
      if (data) tls[field] = Buffer.from(data, 'base64');
      else if (path) { const r = readPem(path, what); if (r.error) configError = r.error; else tls[field] = r.value; }
    };
    load(k.ca, k.caData, 'certificate-authority', 'ca');
    load(k.cert, k.certData, 'client-certificate', 'cert');
    load(k.key, k.keyData, 'client-key', 'key');
  }
}
if (configError) log(`error: ${configError}`);
// Fault knob for tests (health gates): /var/lib/rig-standins/<name>.fault holding `reject-client-cert` makes every
// request with a client certificate fail; `crash-on-client-cert` makes the daemon exit at start when it has one.
let fault;
try { fault = readFileSync(`/var/lib/rig-standins/${name}.fault`, 'utf8').trim(); } catch { /* no fault */ }
if (fault && tls.cert) {
  if (fault === 'crash-on-client-cert') { log(`crashing: client certificate configured (fault injected by /var/lib/rig-standins/${name}.fault)`); process.exit(1); }
  if (fault === 'reject-client-cert') configError = `client certificate rejected (fault injected by /var/lib/rig-standins/${name}.fault)`;
}
if (!url) log(`error: no API server: set --${urlFlag} or a --kubeconfig with a server`);
else if (!/^https?:\/\/[^/]+/.test(url)) { log(`error: bad --${urlFlag} ${JSON.stringify(url)}`); url = undefined; }
const target = url ? `${url.replace(/\/+$/, '')}/version` : undefined;
const agent = target?.startsWith('https:') ? new https.Agent({ keepAlive: true, maxSockets: 1, ...tls }) : new http.Agent({ keepAlive: true, maxSockets: 1 });

function attempt() {
  if (!target) return;
  if (configError) { log(`GET ${target} error=config ${configError}`); return; }
  let done = false;
  const finish = (line) => { if (!done) { done = true; log(line); } };
  try {
    const mod = target.startsWith('https:') ? https : http;
    const req = mod.get(target, { timeout: 5000, agent, ...(target.startsWith('https:') ? tls : {}) }, (res) => {
      res.resume();
      res.on('end', () => finish(`GET ${target} status=${res.statusCode}`));
      res.on('error', (e) => finish(`GET ${target} error=${e.code ?? 'ERROR'} ${e.message}`));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout after 5000 ms'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => finish(`GET ${target} error=${e.code ?? 'ERROR'} ${e.message}`));
  } catch (e) { finish(`GET ${target} error=${e.code ?? 'ERROR'} ${e.message}`); }
}
process.on('SIGTERM', () => { log('stopping (SIGTERM)'); process.exit(0); });
process.on('uncaughtException', (e) => log(`error: ${e.stack ?? e}`));
attempt();
setInterval(attempt, 2000);
