import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** The OpenSSH client settings rig honours for one host (first obtained value wins, as in ssh_config(5)). */
export interface SshHostConfig {
  readonly hostName?: string;
  readonly user?: string;
  readonly port?: number;
  readonly identityFiles: readonly string[];
  readonly identitiesOnly?: boolean;
  readonly identityAgent?: string;
  readonly proxyJump?: string;
  readonly userKnownHostsFiles: readonly string[];
  /** GlobalKnownHostsFile (several files; empty when not set). */
  readonly globalKnownHostsFiles?: readonly string[];
  readonly hostKeyAlias?: string;
  readonly checkHostIp?: boolean;
  readonly hashKnownHosts?: boolean;
  readonly strictHostKeyChecking?: 'yes' | 'no' | 'accept-new' | 'ask' | 'off';
  readonly connectTimeout?: number;
  readonly serverAliveInterval?: number;
  readonly serverAliveCountMax?: number;
}

interface Block { readonly patterns: readonly string[]; readonly options: ReadonlyArray<readonly [string, string]> }

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
}

/** Does `host` match a `Host` line's patterns (any positive match, no negated match)? */
export function matchHostPatterns(patterns: readonly string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) { if (globToRegExp(p.slice(1)).test(host)) return false; }
    else if (globToRegExp(p).test(host)) matched = true;
  }
  return matched;
}

function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] ?? m[2]!);
  return out;
}

function parseBlocks(text: string, baseDir: string, depth = 0): Block[] {
  const blocks: Block[] = [{ patterns: ['*'], options: [] }];
  let current = blocks[0]!;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (key === 'host') {
      current = { patterns: tokenize(value), options: [] };
      blocks.push(current);
    } else if (key === 'match') {
      // Only `Match all` / `Match host X` are understood; other criteria never match (safe: their options are ignored).
      const t = tokenize(value);
      const patterns = t[0]?.toLowerCase() === 'all' ? ['*'] : t[0]?.toLowerCase() === 'host' && t[1] ? t[1].split(',') : ['!*'];
      current = { patterns, options: [] };
      blocks.push(current);
    } else if (key === 'include' && depth < 8) {
      for (const f of tokenize(value)) {
        const file = expandTilde(isAbsolute(expandTilde(f)) ? f : join(baseDir, f));
        if (existsSync(file)) {
          const inner = parseBlocks(readFileSync(file, 'utf8'), baseDir, depth + 1);
          // Options before the first Host in an included file belong to the including block.
          (current.options as Array<readonly [string, string]>).push(...inner[0]!.options);
          blocks.push(...inner.slice(1));
        }
      }
    } else {
      (current.options as Array<readonly [string, string]>).push([key, value]);
    }
  }
  return blocks;
}

export function expandTilde(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

function expandTokens(v: string, host: string, user: string | undefined, port: number | undefined): string {
  return expandTilde(v.replace(/%([%hrunpd])/g, (_m, t: string) => {
    switch (t) {
      case '%': return '%';
      case 'h': return host;
      case 'n': return host;
      case 'r': return user ?? process.env['USER'] ?? 'root';
      case 'u': return process.env['USER'] ?? 'root';
      case 'p': return String(port ?? 22);
      case 'd': return homedir();
      default: return '';
    }
  }));
}

/** Resolve the settings for `host` from ssh_config text (first obtained value wins; IdentityFile/UserKnownHostsFile accumulate). */
export function resolveSshConfig(text: string, host: string, baseDir = join(homedir(), '.ssh')): SshHostConfig {
  const seen = new Map<string, string>();
  const identityFiles: string[] = [];
  const knownHosts: string[] = [];
  const globalKnownHosts: string[] = [];
  for (const b of parseBlocks(text, baseDir)) {
    if (!matchHostPatterns(b.patterns, host)) continue;
    for (const [k, v] of b.options) {
      if (k === 'identityfile') identityFiles.push(v);
      else if (k === 'userknownhostsfile') { if (!seen.has(k)) { seen.set(k, v); knownHosts.push(...tokenize(v)); } }
      else if (k === 'globalknownhostsfile') { if (!seen.has(k)) { seen.set(k, v); globalKnownHosts.push(...tokenize(v)); } }
      else if (!seen.has(k)) seen.set(k, v);
    }
  }
  const hostName = seen.get('hostname');
  const user = seen.get('user');
  const port = seen.has('port') ? Number(seen.get('port')) : undefined;
  const real = hostName ? hostName.replace(/%h/g, host) : undefined;
  const strict = seen.get('stricthostkeychecking')?.toLowerCase();
  return {
    ...(real ? { hostName: real } : {}),
    ...(user ? { user } : {}),
    ...(port ? { port } : {}),
    identityFiles: identityFiles.map((f) => expandTokens(f, real ?? host, user, port)),
    ...(seen.has('identitiesonly') ? { identitiesOnly: seen.get('identitiesonly')!.toLowerCase() === 'yes' } : {}),
    ...(seen.has('identityagent') ? { identityAgent: expandTokens(seen.get('identityagent')!, real ?? host, user, port) } : {}),
    ...(seen.has('proxyjump') && seen.get('proxyjump')!.toLowerCase() !== 'none' ? { proxyJump: seen.get('proxyjump')! } : {}),
    userKnownHostsFiles: knownHosts.map((f) => expandTokens(f, real ?? host, user, port)),
    ...(strict ? { strictHostKeyChecking: (strict === 'yes' || strict === 'no' || strict === 'accept-new' || strict === 'ask' || strict === 'off' ? strict : 'yes') as SshHostConfig['strictHostKeyChecking'] } : {}),
    ...(globalKnownHosts.length ? { globalKnownHostsFiles: globalKnownHosts.map((f) => expandTokens(f, real ?? host, user, port)) } : {}),
    ...(seen.has('hostkeyalias') ? { hostKeyAlias: seen.get('hostkeyalias')! } : {}),
    ...(seen.has('checkhostip') ? { checkHostIp: seen.get('checkhostip')!.toLowerCase() === 'yes' } : {}),
    ...(seen.has('hashknownhosts') ? { hashKnownHosts: seen.get('hashknownhosts')!.toLowerCase() === 'yes' } : {}),
    ...(seen.has('connecttimeout') ? { connectTimeout: Number(seen.get('connecttimeout')) } : {}),
    ...(seen.has('serveraliveinterval') ? { serverAliveInterval: Number(seen.get('serveraliveinterval')) } : {}),
    ...(seen.has('serveralivecountmax') ? { serverAliveCountMax: Number(seen.get('serveralivecountmax')) } : {}),
  };
}

/** Read an ssh config file (missing file → empty config). */
export function readSshConfigFile(path: string | undefined): { text: string; baseDir: string } {
  const file = path ?? join(homedir(), '.ssh', 'config');
  return { text: existsSync(file) ? readFileSync(file, 'utf8') : '', baseDir: join(homedir(), '.ssh') };
}
