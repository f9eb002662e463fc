/**
 * ProxyJump values as OpenSSH 9.2 reads them (readconf.c parse_jump, misc.c parse_ssh_uri / parse_user_host_port):
 * `[user@]host[:port]` or `ssh://[user@]host[:port]`, several separated by commas (the first is contacted first).
 */

export interface JumpHop {
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
}

/** What parse_jump stores: the last hop (the one that connects to the target) and the hops before it. */
export interface ParsedJump {
  readonly none: boolean;
  readonly last?: JumpHop;
  /** The text before the last comma (OpenSSH's jump_extra), passed on as `-J` for the last hop. */
  readonly extra?: string;
}

/** a2port: a number 1..65535 (0 refused) or a service name from /etc/services. */
export function parsePort(s: string, services?: ReadonlyMap<string, number>): number | undefined {
  if (/^[+-]?\d+$/.test(s.trim()) && /^\s*[+-]?\d+$/.test(s)) {
    const n = Number(s.trim());
    return n >= 1 && n <= 65535 ? n : undefined;
  }
  const p = services?.get(s);
  return p !== undefined && p > 0 ? p : undefined;
}

/** misc.c valid_domain: the name without a trailing dot, or undefined when invalid. */
function validDomain(h: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(h) || h.includes('..')) return undefined;
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** One hop, or undefined when OpenSSH would refuse it. */
export function parseJumpHop(s: string, services?: ReadonlyMap<string, number>): JumpHop | undefined {
  if (s.startsWith('ssh://')) {
    let rest = s.slice(6);
    let user: string | undefined;
    const at = rest.indexOf('@');
    if (at >= 0) {
      let u = rest.slice(0, at);
      const semi = u.indexOf(';');
      if (semi >= 0) u = u.slice(0, semi);
      if (u === '') return undefined;
      try { user = decodeURIComponent(u); } catch { return undefined; }
      rest = rest.slice(at + 1);
    }
    let host: string;
    if (rest.startsWith('[')) {
      const close = rest.indexOf(']');
      if (close < 0) return undefined;
      host = rest.slice(1, close);
      rest = rest.slice(close + 1);
      if (rest !== '' && rest[0] !== ':' && rest[0] !== '/') return undefined;
    } else {
      const m = /[:/]/.exec(rest);
      host = m ? rest.slice(0, m.index) : rest;
      rest = m ? rest.slice(m.index) : '';
    }
    const valid = validDomain(host);
    if (valid === undefined) return undefined;
    host = valid;
    let port: number | undefined;
    if (rest.startsWith(':')) {
      const slash = rest.indexOf('/');
      const ps = slash < 0 ? rest.slice(1) : rest.slice(1, slash);
      if (ps !== '') {
        port = parsePort(ps, services);
        if (port === undefined) return undefined;
      }
      rest = slash < 0 ? '' : rest.slice(slash);
    }
    if (rest.startsWith('/') && rest.length > 1) return undefined; // a path is not allowed
    return { ...(user !== undefined ? { user } : {}), host, ...(port !== undefined ? { port } : {}) };
  }
  let rest = s;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    if (at === 0) return undefined;
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return undefined;
    host = rest.slice(0, close + 1);
    const after = rest.slice(close + 1);
    if (after !== '' && after[0] !== ':') return undefined;
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const m = /[:/]/.exec(rest);
    if (m && m[0] === '/') return undefined;
    host = m ? rest.slice(0, m.index) : rest;
    portText = m ? rest.slice(m.index + 1) : undefined;
  }
  if (host === '') return undefined;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    port = parsePort(portText, services);
    if (port === undefined) return undefined;
  }
  return { ...(user !== undefined ? { user } : {}), host, ...(port !== undefined ? { port } : {}) };
}

/** parse_jump's syntax check and result, or undefined for an invalid value. */
export function parseJump(value: string, services?: ReadonlyMap<string, number>): ParsedJump | undefined {
  if (value.toLowerCase() === 'none') return { none: true };
  let text = value;
  const hash = text.indexOf('#');
  if (hash >= 0) text = text.slice(0, hash);
  text = text.replace(/[ \t\r\n]+$/, '');
  const parts = text.split(',');
  let last: JumpHop | undefined;
  for (let i = parts.length - 1; i >= 0; i--) {
    const hop = parseJumpHop(parts[i]!, services);
    if (!hop) return undefined;
    if (i === parts.length - 1) last = hop;
  }
  const comma = value.lastIndexOf(',');
  return { none: false, ...(last ? { last } : {}), ...(comma > 0 ? { extra: value.slice(0, comma) } : {}) };
}

/** How `ssh -G` prints a parsed jump: `extra,` + `user@` + host (bracketed when numeric or with `:`) + `:port`. */
export function formatJump(j: ParsedJump): string {
  if (j.none || !j.last) return 'none';
  const h = j.last.host;
  const bracket = h.includes(':') || /^[0-9.]*$/.test(h);
  return `${j.extra !== undefined ? `${j.extra},` : ''}${j.last.user !== undefined ? `${j.last.user}@` : ''}${bracket ? `[${h}]` : h}${j.last.port !== undefined && j.last.port > 0 ? `:${j.last.port}` : ''}`;
}

/** Every hop of a chain, first contacted first (syntax as parseJump; undefined when invalid). */
export function parseJumpChain(value: string, services?: ReadonlyMap<string, number>): JumpHop[] | undefined {
  const j = parseJump(value, services);
  if (!j || j.none) return j ? [] : undefined;
  let text = value;
  const hash = text.indexOf('#');
  if (hash >= 0) text = text.slice(0, hash);
  const hops = text.replace(/[ \t\r\n]+$/, '').split(',').map((p) => parseJumpHop(p, services));
  return hops.every((h): h is JumpHop => h !== undefined) ? hops : undefined;
}
