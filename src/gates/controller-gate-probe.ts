import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { GateCheck } from './gate-types.ts';

export interface ProbeOutcome { readonly passed: boolean; readonly output: string }

interface TlsFiles { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer }

/** Server URL and TLS material of a kubeconfig's current (else first) context (paths relative to the file). */
export function readKubeconfigTarget(file: string): { readonly url: string } & TlsFiles {
  const doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, any>;
  const ctxName = doc?.['current-context'];
  const context = (doc?.contexts ?? []).find((c: any) => c?.name === ctxName)?.context ?? doc?.contexts?.[0]?.context;
  const cluster = ((doc?.clusters ?? []).find((c: any) => c?.name === context?.cluster) ?? doc?.clusters?.[0])?.cluster;
  const user = ((doc?.users ?? []).find((u: any) => u?.name === context?.user) ?? doc?.users?.[0])?.user;
  if (!cluster?.server) throw new Error(`${file}: no cluster server`);
  const load = (path: unknown, data: unknown): Buffer | undefined => {
    if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
    if (typeof path === 'string' && path) return readFileSync(resolve(dirname(file), path));
    return undefined;
  };
  const ca = load(cluster['certificate-authority'], cluster['certificate-authority-data']);
  const cert = load(user?.['client-certificate'], user?.['client-certificate-data']);
  const key = load(user?.['client-key'], user?.['client-key-data']);
  return { url: String(cluster.server), ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

function get(url: string, tls: TlsFiles): Promise<number> {
  return new Promise((done, fail) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { timeout: 5000, agent: false, ...(url.startsWith('https:') ? tls : {}) }, (res) => { res.resume(); res.on('end', () => done(res.statusCode ?? 0)); });
    req.on('timeout', () => req.destroy(new Error('timeout after 5 s')));
    req.on('error', fail);
  });
}

async function probeApiserver(c: Extract<GateCheck, { kind: 'apiserver' }>): Promise<ProbeOutcome> {
  const target = c.kubeconfig ? readKubeconfigTarget(c.kubeconfig) : {
    url: c.url!, ...(c.caFile ? { ca: readFileSync(c.caFile) } : {}), ...(c.clientCert ? { cert: readFileSync(c.clientCert) } : {}), ...(c.clientKey ? { key: readFileSync(c.clientKey) } : {}),
  };
  const base = target.url.replace(/\/+$/, '');
  const paths = !c.path || c.path === 'auto' ? ['/readyz', '/healthz'] : [c.path];
  let line = '';
  for (const [i, p] of paths.entries()) {
    const code = await get(base + p, target);
    line = `GET ${base}${p}: HTTP ${code}`;
    if (code !== 404 || i === paths.length - 1) return { passed: code === 200, output: line };
  }
  return { passed: false, output: line };
}

function probeTcp(c: Extract<GateCheck, { kind: 'tcp' }>): Promise<ProbeOutcome> {
  return new Promise((done) => {
    const want = c.open !== false;
    const sock = net.connect({ host: c.host, port: c.port, timeout: 5000 });
    const end = (open: boolean, why: string): void => { sock.destroy(); done({ passed: open === want, output: `${c.host}:${c.port} ${open ? 'open' : `closed (${why})`}` }); };
    sock.once('connect', () => end(true, ''));
    sock.once('timeout', () => end(false, 'timeout'));
    sock.once('error', (e: NodeJS.ErrnoException) => end(false, e.code ?? e.message));
  });
}

function probeCommand(argv: readonly string[]): Promise<ProbeOutcome> {
  return new Promise((done) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 30_000, maxBuffer: 1 << 20 }, (e, stdout, stderr) => {
      done({ passed: !e, output: `${stdout}${stderr}`.trim().slice(-400) || (e ? String(e.message) : '') });
    });
  });
}

/** Probe `check` once from the controller. Never throws: a probe that cannot run fails with its reason. */
export async function probeFromController(check: GateCheck): Promise<ProbeOutcome> {
  try {
    switch (check.kind) {
      case 'apiserver': return await probeApiserver(check);
      case 'tcp': return await probeTcp(check);
      case 'command': return await probeCommand(check.argv);
      case 'agent': return { passed: false, output: 'an agent gate runs on the host' };
    }
  } catch (e) {
    return { passed: false, output: `${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`.trim() };
  }
}
