// Stand-in kube-apiserver: /version and /healthz (plus a demo Secret) on the insecure port (plain HTTP, no auth) and on
// the secure port (TLS; client certificate verified against --client-ca-file, or basic auth from --basic-auth-file).
// Every request is logged with the authenticated user to /var/log/kube-apiserver.log.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { appendLog, readDaemonFlags, readPem } from './flags.mjs';

const LOG = '/var/log/kube-apiserver.log';
const log = (line) => appendLog(LOG, line);
const { flags, problems } = readDaemonFlags('kube-apiserver', 'KUBE_APISERVER_OPTS');
log(`starting kube-apiserver (rig stand-in) pid=${process.pid} flags=${[...flags].map(([k, v]) => `--${k}=${v}`).join(' ')}`);
for (const p of problems) log(`warning: ${p}`);

const VERSION = {
  major: '1', minor: '3', gitVersion: 'v1.3.0-rig-standin', gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean', buildDate: '2016-07-01T00:00:00Z', goVersion: 'go1.6.2', compiler: 'gc', platform: 'linux/amd64',
};
const DEMO_SECRET = {
  kind: 'Secret', apiVersion: 'v1',
  metadata: { name: 'demo', namespace: 'default', selfLink: '/api/v1/namespaces/default/secrets/demo' },
  data: { password: Buffer.from('s3cr3t-value').toString('base64') }, type: 'Opaque',
};

function status(code, reason, message) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function readBasicAuth(path) {
  const users = new Map();
  if (!path) return users;
  let text;
  try { text = readFileSync(path, 'utf8'); } catch (e) { log(`warning: cannot read --basic-auth-file ${path}: ${e.code ?? e.message}`); return users; }
  for (const line of text.split('\n')) {
    const cols = line.trim().split(',');
    if (cols.length < 3 || !cols[0]) { if (line.trim()) log('warning: ignoring a malformed --basic-auth-file line'); continue; }
    users.set(cols[1], cols[0]);
  }
  return users;
}
const basicUsers = readBasicAuth(flags.get('basic-auth-file'));

function authenticate(req) {
  const sock = req.socket;
  if (sock.authorized) {
    const cert = sock.getPeerCertificate();
    if (cert && cert.subject && cert.subject.CN) return cert.subject.CN;
  }
  const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (m) {
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    if (colon > 0 && basicUsers.has(user) && basicUsers.get(user) === decoded.slice(colon + 1)) return user;
  }
  return undefined;
}

function handler(scheme, secure) {
  return (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const user = secure ? authenticate(req) : 'system:anonymous-insecure';
      const send = (code, body, type = 'application/json') => {
        const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
        res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
        log(`${scheme} ${req.method} ${req.url} user=${user ?? '-'} status=${code} remote=${req.socket.remoteAddress}`);
      };
      if (secure && user === undefined) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/version') return send(200, VERSION);
      if (req.method === 'GET' && path === '/healthz') return send(200, 'ok', 'text/plain');
      if (req.method === 'GET' && path === '/api/v1/namespaces/default/secrets/demo') return send(200, DEMO_SECRET);
      if (req.method === 'POST' && path === '/api/v1/namespaces/default/secrets') {
        return send(201, Buffer.concat(chunks).toString('utf8'), req.headers['content-type'] ?? 'application/json');
      }
      return send(404, status(404, 'NotFound', `the server could not find the requested resource (${req.method} ${path})`));
    });
  };
}

function listen(server, host, port, what) {
  server.on('error', (e) => log(`error: ${what} ${host}:${port}: ${e.code ?? ''} ${e.message}`));
  // backlog as Go's net.Listen (somaxconn), not Node's 511: at 200 hosts, 400 agents and 200 waits may connect at once.
  server.listen({ port: Number(port), host, backlog: 4096 }, () => log(`serving ${what} on ${host}:${port}`));
}

const insecurePort = flags.get('insecure-port') ?? '8080';
if (!/^\d+$/.test(insecurePort)) log(`error: bad --insecure-port ${JSON.stringify(insecurePort)}`);
else if (insecurePort !== '0') listen(http.createServer(handler('http', false)), flags.get('insecure-bind-address') ?? '127.0.0.1', insecurePort, 'insecure HTTP');

const securePort = flags.get('secure-port') ?? '6443';
if (!/^\d+$/.test(securePort)) log(`error: bad --secure-port ${JSON.stringify(securePort)}`);
else if (securePort !== '0') {
  const cert = flags.get('tls-cert-file');
  const key = flags.get('tls-private-key-file');
  const ca = flags.get('client-ca-file');
  if (!cert || !key) log('error: secure port disabled: --tls-cert-file and --tls-private-key-file are required');
  else {
    const c = readPem(cert, '--tls-cert-file');
    const k = readPem(key, '--tls-private-key-file');
    const a = ca ? readPem(ca, '--client-ca-file') : { value: undefined };
    for (const r of [c, k, a]) if (r.error) log(`error: ${r.error}`);
    if (!c.error && !k.error) {
      try {
        const server = https.createServer({ cert: c.value, key: k.value, ...(a.value ? { ca: a.value } : {}), requestCert: true, rejectUnauthorized: false }, handler('https', true));
        server.on('tlsClientError', (e) => log(`https tls error: ${e.code ?? ''} ${e.message}`));
        listen(server, flags.get('bind-address') ?? '0.0.0.0', securePort, 'secure HTTPS');
      } catch (e) { log(`error: secure port disabled: ${e.code ?? ''} ${e.message}`); }
    }
  }
}
process.on('SIGTERM', () => { log('stopping (SIGTERM)'); process.exit(0); });
process.on('uncaughtException', (e) => log(`error: ${e.stack ?? e}`));
setInterval(() => {}, 1 << 30);
