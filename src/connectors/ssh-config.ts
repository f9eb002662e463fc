/**
 * ssh_config resolved as OpenSSH 9.2's `ssh -G` resolves it (readconf.c, ssh.c), checked against `ssh -G` by
 * test/unit/ssh-config-differential.test.ts. See docs/ssh.md ("ssh_config") for what rig reads and the few deliberate
 * differences. Every line of every file read is parsed and checked (like OpenSSH: a bad line anywhere is an error);
 * values follow "first obtained value wins"; `Host` patterns are case-sensitive and match the name as given (the
 * resolved HostName on a final pass); `Match` supports all, canonical, final, exec, host, originalhost, user,
 * localuser and negation; `Include` globs relative to ~/.ssh, applied where it stands and only inside an active block.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname, userInfo, type UserInfo } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { SshConfigError } from '../errors.ts';
import { formatJump, parseJump, parsePort, type ParsedJump } from './proxy-jump.ts';
import { argvSplit, matchHostname, matchPattern, matchPatternList, splitKeyword, strdelim } from './ssh-config-lexer.ts';
import { clientTokens, connectionHash, expandClientPath, expandPercent, lookupUserHome, type LocalIdentity } from './ssh-expand.ts';

export type StrictHostKeyChecking = 'yes' | 'no' | 'ask' | 'accept-new';

/** The settings rig reads for one host, resolved like `ssh -G` (values OpenSSH fills in by default included). */
export interface SshHostConfig {
  /** The name given (OpenSSH's host_arg, `%n`). */
  readonly hostArg: string;
  /** Where to connect: HostName with `%h` expanded, lowercased unless an address (or the name given). */
  readonly hostName: string;
  readonly user: string;
  readonly port: number;
  /** IdentityFile values as written (`ssh -G` prints them unexpanded); `none` entries included. */
  readonly identityFiles: readonly string[];
  /** True when no IdentityFile applied (OpenSSH then tries its default ~/.ssh/id_* files). */
  readonly defaultIdentityFiles: boolean;
  readonly identitiesOnly: boolean;
  /** Expanded IdentityAgent: a socket path, `SSH_AUTH_SOCK`, `none`, or undefined (not set: $SSH_AUTH_SOCK). */
  readonly identityAgent?: string;
  /** ProxyJump as `ssh -G` prints it (undefined when none applies). */
  readonly proxyJump?: string;
  /** The parsed ProxyJump: the last hop and the chain before it. */
  readonly jump?: ParsedJump;
  /** ProxyCommand (undefined when none applies, or when ProxyJump came first). */
  readonly proxyCommand?: string;
  /** Seconds, undefined = none (the system's TCP timeout). */
  readonly connectTimeout?: number;
  /** Seconds; undefined when the config does not set it (OpenSSH's default: 0, off). */
  readonly serverAliveInterval?: number;
  /** Undefined when the config does not set it (OpenSSH's default: 3). */
  readonly serverAliveCountMax?: number;
  readonly strictHostKeyChecking: StrictHostKeyChecking;
  /** Expanded known_hosts files (empty for `none`). */
  readonly userKnownHostsFiles: readonly string[];
  readonly globalKnownHostsFiles: readonly string[];
  /** Lowercased, as OpenSSH stores it. */
  readonly hostKeyAlias?: string;
  readonly checkHostIp: boolean;
  readonly hashKnownHosts: boolean;
  readonly connectionAttempts: number;
  readonly batchMode: boolean;
  /** Keywords that applied and that rig reads only to honour or refuse them (lowercase keyword → first value). */
  readonly other: ReadonlyMap<string, string>;
}

/** Command-line settings: `-l`, `-p`, `-J`, `-o` (set before the files are read, so they win). */
export interface SshResolveOverrides {
  readonly user?: string;
  readonly port?: number;
  readonly jump?: string;
  /** `-o` arguments in command-line order (`Keyword=value` or `Keyword value`); the first value of a keyword wins. */
  readonly options?: readonly string[];
}

export interface SshConfigResolverOptions {
  /** Like `ssh -F`: only this file is read (`none`: no file). @default ~/.ssh/config then /etc/ssh/ssh_config */
  readonly configFile?: string;
  /** @default /etc/ssh/ssh_config (read after the user's file, when configFile is not given) */
  readonly systemConfigFile?: string;
  /** @default the current user from the password database, gethostname(), process.env */
  readonly local?: LocalIdentity;
  /** `Match exec`: run the command, return its exit status. @default $SHELL -c (like OpenSSH) */
  readonly exec?: (command: string) => number;
}

/** Keywords OpenSSH 9.2 (Debian) knows; the ones not in READ are checked only for being known. */
const KNOWN = new Set(('protocol cipher fallbacktorsh globalknownhostsfile2 rhostsauthentication userknownhostsfile2 useroaming usersh '
  + 'useprivilegedport afstokenpassing kerberosauthentication kerberostgtpassing rsaauthentication rhostsrsaauthentication compressionlevel '
  + 'gssapiauthentication gssapidelegatecredentials gssapikeyexchange gssapitrustdns gssapiclientidentity gssapiserveridentity '
  + 'gssapirenewalforcesrekey gssapikexalgorithms pkcs11provider smartcarddevice forwardagent forwardx11 forwardx11trusted '
  + 'forwardx11timeout exitonforwardfailure xauthlocation gatewayports passwordauthentication kbdinteractiveauthentication '
  + 'kbdinteractivedevices challengeresponseauthentication skeyauthentication tisauthentication pubkeyauthentication dsaauthentication '
  + 'hostbasedauthentication identityfile identityfile2 identitiesonly certificatefile addkeystoagent identityagent hostname hostkeyalias '
  + 'proxycommand port ciphers macs remoteforward localforward permitremoteopen user host match escapechar globalknownhostsfile '
  + 'userknownhostsfile connectionattempts batchmode checkhostip stricthostkeychecking compression tcpkeepalive keepalive '
  + 'numberofpasswordprompts syslogfacility loglevel logverbose dynamicforward preferredauthentications hostkeyalgorithms '
  + 'casignaturealgorithms bindaddress bindinterface clearallforwardings enablesshkeysign verifyhostkeydns '
  + 'nohostauthenticationforlocalhost rekeylimit connecttimeout addressfamily serveraliveinterval serveralivecountmax sendenv setenv '
  + 'controlpath controlmaster controlpersist hashknownhosts include tunnel tunneldevice localcommand permitlocalcommand remotecommand '
  + 'visualhostkey kexalgorithms ipqos requesttty sessiontype stdinnull forkafterauthentication proxyusefdpass canonicaldomains '
  + 'canonicalizefallbacklocal canonicalizehostname canonicalizemaxdots canonicalizepermittedcnames streamlocalbindmask '
  + 'streamlocalbindunlink revokedhostkeys fingerprinthash updatehostkeys hostbasedacceptedalgorithms hostbasedkeytypes '
  + 'pubkeyacceptedalgorithms pubkeyacceptedkeytypes ignoreunknown proxyjump securitykeyprovider knownhostscommand requiredrsasize '
  + 'enableescapecommandline protocolkeepalives setuptimeout').split(' '));

const ALIASES: Readonly<Record<string, string>> = { identityfile2: 'identityfile', keepalive: 'tcpkeepalive', dsaauthentication: 'pubkeyauthentication',
  challengeresponseauthentication: 'kbdinteractiveauthentication', skeyauthentication: 'kbdinteractiveauthentication', tisauthentication: 'kbdinteractiveauthentication',
  hostbasedkeytypes: 'hostbasedacceptedalgorithms', pubkeyacceptedkeytypes: 'pubkeyacceptedalgorithms', smartcarddevice: 'pkcs11provider' };

/** Keywords whose first value is kept in `other` (rig honours, warns about or refuses them; docs/ssh.md). */
const OTHER = new Set(['ciphers', 'macs', 'kexalgorithms', 'hostkeyalgorithms', 'controlmaster', 'controlpath', 'controlpersist', 'forwardagent',
  'localforward', 'remoteforward', 'dynamicforward', 'addressfamily', 'bindaddress', 'bindinterface', 'pubkeyauthentication', 'knownhostscommand',
  'revokedhostkeys', 'verifyhostkeydns', 'remotecommand', 'localcommand', 'permitlocalcommand', 'setenv', 'certificatefile', 'pkcs11provider',
  'securitykeyprovider', 'tunnel', 'forwardx11', 'canonicalizehostname', 'preferredauthentications', 'requesttty', 'sessiontype',
  'passwordauthentication', 'kbdinteractiveauthentication', 'hostbasedauthentication', 'nohostauthenticationforlocalhost', 'pubkeyacceptedalgorithms',
  'rekeylimit', 'ipqos', 'tcpkeepalive', 'compression', 'proxyusefdpass', 'updatehostkeys', 'stdinnull', 'forkafterauthentication']);

/** Keywords that take one yes/no/true/false word (readconf.c parse_flag): checked even though rig does not read them. */
const FLAG_KEYWORDS = new Set(['forwardx11', 'forwardx11trusted', 'exitonforwardfailure', 'gatewayports', 'passwordauthentication',
  'kbdinteractiveauthentication', 'hostbasedauthentication', 'gssapiauthentication', 'gssapidelegatecredentials', 'tcpkeepalive',
  'nohostauthenticationforlocalhost', 'enablesshkeysign', 'clearallforwardings', 'permitlocalcommand', 'visualhostkey', 'streamlocalbindunlink',
  'stdinnull', 'forkafterauthentication', 'proxyusefdpass', 'enableescapecommandline', 'canonicalizefallbacklocal', 'compression']);

/** Keywords whose lines take several words (or whose words OpenSSH consumes unchecked); every other one takes one. */
const MULTI_ARGUMENT = new Set(['sendenv', 'setenv', 'localcommand', 'remotecommand', 'knownhostscommand', 'localforward', 'remoteforward',
  'canonicaldomains', 'canonicalizepermittedcnames', 'logverbose', 'permitremoteopen', 'ipqos', 'rekeylimit', 'protocol', 'cipher', 'fallbacktorsh',
  'globalknownhostsfile2', 'rhostsauthentication', 'userknownhostsfile2', 'useroaming', 'usersh', 'useprivilegedport', 'afstokenpassing',
  'kerberosauthentication', 'kerberostgtpassing', 'rsaauthentication', 'rhostsrsaauthentication', 'compressionlevel']);

const FLAG: Readonly<Record<string, boolean>> = { yes: true, true: true, no: false, false: false };
const STRICT: Readonly<Record<string, StrictHostKeyChecking>> = { yes: 'yes', true: 'yes', no: 'no', false: 'no', off: 'no', ask: 'ask', 'accept-new': 'accept-new' };
const MAX_DEPTH = 16;
const MAX_IDENTITY_FILES = 100;
const MAX_HOSTS_FILES = 16;

/** One line split once: keyword (lowercased), the rest, and its words (null: a quote left open); null for blank/comment. */
type ParsedLine = { readonly keyword: string; readonly rest: string; readonly args: readonly string[] | null } | null;

/** An option line worked out once: OpenSSH's error for it, or how it sets a value (undefined: nothing rig keeps). */
interface CompiledLine { readonly error?: string; readonly apply?: ((o: Obtained, flags: number) => void) | undefined }

/** A line's error found while compiling it (turned into CompiledLine.error). */
class CompileError extends Error {}

/** Mutable state while reading (OpenSSH's Options): undefined = not obtained yet. */
interface Obtained {
  user?: string; hostname?: string; port?: number; identityFiles: string[]; identityUser: boolean[]; identitiesOnly?: boolean; identityAgent?: string;
  proxyCommand?: string; jump?: ParsedJump; connectTimeout?: number; serverAliveInterval?: number; serverAliveCountMax?: number;
  strict?: StrictHostKeyChecking; userKnownHosts?: string[]; globalKnownHosts?: string[]; hostKeyAlias?: string; checkHostIp?: boolean;
  hashKnownHosts?: boolean; connectionAttempts?: number; batchMode?: boolean; ignoreUnknown?: string; canonicalize?: string;
  other: Map<string, string>;
}

const USERCONF = 1;
const CHECKPERM = 2;
const NEVERMATCH = 4;
const FINAL = 8;

interface Pass {
  readonly host: string;
  readonly originalHost: string;
  readonly o: Obtained;
  active: boolean;
  wantFinal: boolean;
}

/** The current user as OpenSSH sees it (password database, gethostname, environment). */
export function currentLocalIdentity(env: Readonly<Record<string, string | undefined>> = process.env): LocalIdentity {
  let u: UserInfo<string>;
  try {
    u = userInfo();
  } catch {
    // As ssh.c: "No user exists for uid N" — without a name and a home, %u, %d and ~ in ssh_config mean nothing.
    throw new SshConfigError(`no user exists for uid ${process.getuid?.() ?? '?'}: the password database has no entry for the user running rig (OpenSSH refuses to run so too)`, {
      hint: 'run rig as a user listed in /etc/passwd (in a container: add an entry for this uid, or run it as a named user)',
    });
  }
  return { userName: u.username, uid: u.uid, homeDir: u.homedir, hostName: hostname(), env };
}

function readServices(): Map<string, number> {
  const m = new Map<string, number>();
  let text = '';
  try { text = readFileSync('/etc/services', 'utf8'); } catch { return m; }
  for (const line of text.split('\n')) {
    const f = line.replace(/#.*/, '').trim().split(/\s+/);
    const pm = /^(\d+)\/tcp$/.exec(f[1] ?? '');
    if (!pm) continue;
    for (const name of [f[0]!, ...f.slice(2)]) if (name && !m.has(name)) m.set(name, Number(pm[1]));
  }
  return m;
}

function isAddress(h: string): boolean {
  return isIP(h) !== 0;
}

/** strtonum(s, 0, INT_MAX) as OpenSSH's atoi_err: undefined when not a number in range. */
function parseInt0(s: string | undefined): number | undefined {
  if (s === undefined || !/^[ \t]*[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s.trim());
  return n >= 0 && n <= 2147483647 ? n : undefined;
}

/** misc.c convtime: `90`, `1m30s`, `2h`…; undefined when invalid. */
export function parseTime(s: string): number | undefined {
  if (s === '') return undefined;
  const mult: Record<string, number> = { '': 1, s: 1, S: 1, m: 60, M: 60, h: 3600, H: 3600, d: 86400, D: 86400, w: 604800, W: 604800 };
  let total = 0;
  const re = /[ \t\n\r\f\v]*([+-]?)(\d+)([a-zA-Z]?)/y;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m || m[1] === '-' && Number(m[2]) !== 0) return undefined;
    const k = mult[m[3]!];
    if (k === undefined) return undefined;
    const secs = Number(m[2]);
    if (secs > Math.floor(2147483647 / k)) return undefined;
    total += secs * k;
    if (total > 2147483647) return undefined;
    i = re.lastIndex;
  }
  return total;
}

/** Reads ssh_config files like OpenSSH; files are read once and kept for every host resolved. */
export class SshConfigResolver {
  readonly #local: LocalIdentity;
  readonly #files = new Map<string, ParsedLine[] | null>();
  readonly #compiled = new WeakMap<NonNullable<ParsedLine>, CompiledLine>();
  readonly #services = readServices();

  constructor(readonly options: SshConfigResolverOptions = {}) {
    this.#local = options.local ?? currentLocalIdentity();
  }

  get local(): LocalIdentity { return this.#local; }
  get services(): ReadonlyMap<string, number> { return this.#services; }

  /** Resolve `host` like `ssh -G [-l user] [-p port] [-J jump] host`. Throws SshConfigError where ssh would refuse. */
  resolve(hostArg: string, overrides: SshResolveOverrides = {}): SshHostConfig {
    const o: Obtained = { identityFiles: [], identityUser: [], other: new Map() };
    if (overrides.user !== undefined) o.user = overrides.user;
    if (overrides.port !== undefined) o.port = overrides.port;
    if (overrides.jump !== undefined) {
      const j = parseJump(overrides.jump, this.#services);
      if (!j) throw new SshConfigError(`invalid jump host specification ${JSON.stringify(overrides.jump)}`, { host: hostArg });
      o.jump = j;
      o.proxyCommand = 'none';
    }
    const first: Pass = { host: hostArg, originalHost: hostArg, o, active: true, wantFinal: false };
    for (const option of overrides.options ?? []) {
      const kw = splitKeyword(option);
      if (kw && (kw.keyword === 'host' || kw.keyword === 'match' || kw.keyword === 'include')) {
        throw new SshConfigError(`-o ${option}: ${kw.keyword} is not supported as a command-line option`, { host: hostArg });
      }
      const parsed: ParsedLine = kw ? { keyword: kw.keyword, rest: kw.rest, args: kw.rest === '' ? [] : argvSplit(kw.rest) } : null;
      try {
        this.#line(parsed, 'command line', 0, first, USERCONF, 0);
      } catch (e) {
        if (e instanceof SshConfigError) throw new SshConfigError(`-o ${option}: ${e.message.replace(/^line 0: /, '')}`, { host: hostArg });
        throw e;
      }
      first.active = true;
    }
    this.#readAll(first, 0);
    let host = hostArg;
    if (o.hostname !== undefined) {
      host = expandPercent(o.hostname, { h: hostArg });
      o.hostname = host;
    }
    if (!isAddress(host)) host = host.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const canon = o.canonicalize;
    if (canon !== undefined && canon !== 'no' && canon !== 'false') {
      throw new SshConfigError(`${hostArg}: CanonicalizeHostname ${canon} is not supported by rig (it needs OpenSSH's DNS canonicalisation)`, {
        host: hostArg, hint: 'set CanonicalizeHostname no for the hosts rig manages, or give their full names' });
    }
    if (first.wantFinal) {
      o.hostname = host;
      this.#readAll({ host, originalHost: hostArg, o, active: true, wantFinal: false }, FINAL);
    }
    return this.#finish(hostArg, host, o);
  }

  #readAll(pass: Pass, flags: number): void {
    const cf = this.options.configFile;
    if (cf !== undefined) {
      if (cf.toLowerCase() === 'none') return;
      if (!this.#readFile(cf, pass, USERCONF | flags, 0)) {
        throw new SshConfigError(`can't open ssh config file ${cf}`, { file: cf, hint: 'check the --ssh-config path' });
      }
      return;
    }
    this.#readFile(join(this.#local.homeDir, '.ssh', 'config'), pass, CHECKPERM | USERCONF | flags, 0);
    this.#readFile(this.options.systemConfigFile ?? '/etc/ssh/ssh_config', pass, flags, 0);
  }

  /** A file's lines, split into keyword and words once (null: no such file). */
  #lines(file: string): ParsedLine[] | null {
    if (!this.#files.has(file)) {
      let lines: ParsedLine[] | null = null;
      try {
        const raw = statSync(file).isDirectory() ? [] : readFileSync(file, 'latin1').split('\n');
        if (raw.length && raw[raw.length - 1] === '') raw.pop();
        lines = raw.map((r) => {
          const kw = splitKeyword(r);
          return kw ? { keyword: kw.keyword, rest: kw.rest, args: kw.rest === '' ? [] : argvSplit(kw.rest) } : null;
        });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new SshConfigError(`can't open ssh config file ${file}: ${(e as Error).message}`, { file });
      }
      this.#files.set(file, lines);
    }
    return this.#files.get(file)!;
  }

  /** read_config_file_depth: false when the file does not exist. */
  #readFile(file: string, pass: Pass, flags: number, depth: number): boolean {
    if (depth > MAX_DEPTH) throw new SshConfigError('too many recursive configuration includes', { file });
    const lines = this.#lines(file);
    if (lines === null) return false;
    if (flags & CHECKPERM) {
      const st = statSync(file);
      if ((st.uid !== 0 && st.uid !== this.#local.uid) || (st.mode & 0o22) !== 0) {
        throw new SshConfigError(`bad owner or permissions on ${file}`, { file, hint: 'make it owned by you or root and not writable by group or others' });
      }
    }
    const errors: string[] = [];
    for (const [i, raw] of lines.entries()) {
      try {
        this.#line(raw, file, i + 1, pass, flags, depth);
      } catch (e) {
        if (!(e instanceof SshConfigError)) throw e;
        errors.push(e.message);
      }
    }
    if (errors.length) {
      throw new SshConfigError(`${file}: ${errors.length} bad configuration option${errors.length > 1 ? 's' : ''}: ${errors.join('; ')}`, { file });
    }
    return true;
  }

  #line(parsed: ParsedLine, file: string, line: number, pass: Pass, flags: number, depth: number): void {
    const fail = (msg: string): never => { throw new SshConfigError(`line ${line}: ${msg}`, { file, line }); };
    if (!parsed) return;
    const { rest, args } = parsed;
    let keyword = parsed.keyword;
    if (rest === '') fail(`no argument after keyword "${keyword}"`);
    if (!KNOWN.has(keyword)) {
      if (pass.o.ignoreUnknown !== undefined && matchPatternList(keyword, pass.o.ignoreUnknown, true) === 1) return;
      fail(`bad configuration option: ${keyword}`);
    }
    keyword = ALIASES[keyword] ?? keyword;
    if (args === null) fail('invalid quotes');
    switch (keyword) {
      case 'host': {
        pass.active = false;
        if (args!.some((a) => a === '')) fail('empty argument');
        if (flags & NEVERMATCH) break;
        for (const a of args!) {
          const neg = a.startsWith('!');
          if (matchPattern(pass.host, neg ? a.slice(1) : a)) {
            if (neg) { pass.active = false; break; }
            pass.active = true;
          }
        }
        break;
      }
      case 'match': {
        const r = this.#match(rest, pass, flags, file, line);
        pass.active = (flags & NEVERMATCH) ? false : r;
        break;
      }
      case 'include': {
        for (const a of args!) {
          if (a === '') fail('empty include argument');
          if (a.startsWith('~') && !(flags & USERCONF)) fail(`bad include path ${a}`);
          const pattern = a.startsWith('/') || a.startsWith('~') ? a : `${flags & USERCONF ? '~/.ssh' : '/etc/ssh'}/${a}`;
          const was = pass.active;
          for (const f of globPaths(this.#globTilde(pattern))) {
            this.#readFile(f, pass, flags | CHECKPERM | (was ? 0 : NEVERMATCH), depth + 1);
            pass.active = was;
          }
        }
        break;
      }
      default: {
        let c = this.#compiled.get(parsed);
        if (!c) { c = this.#compile(keyword, rest, args!); this.#compiled.set(parsed, c); }
        if (c.error !== undefined) fail(c.error);
        if (pass.active) c.apply?.(pass.o, flags);
      }
    }
  }

  /**
   * What an option line does, worked out once per line (it does not depend on the host): the error OpenSSH reports
   * for it wherever it stands (even in a block that does not apply), or how it sets a value not obtained yet.
   */
  #compile(keyword: string, rest: string, args: readonly string[]): CompiledLine {
    try {
      return { apply: this.#compileOption(keyword, rest, args) };
    } catch (e) {
      if (e instanceof CompileError) return { error: e.message };
      throw e;
    }
  }

  #compileOption(keyword: string, rest: string, args: readonly string[]): ((o: Obtained, flags: number) => void) | undefined {
    const fail = (msg: string): never => { throw new CompileError(msg); };
    const single = (f: ((o: Obtained, flags: number) => void) | undefined) => {
      if (args.length > 1) fail(`keyword ${keyword} extra arguments at end of line`);
      return f;
    };
    const arg = (): string => { const a = args[0]; if (a === undefined || a === '') fail(`missing argument to ${keyword}`); return a!; };
    const flag = (): boolean => { const v = FLAG[(args[0] ?? '').toLowerCase()]; if (v === undefined) fail(`unsupported option "${args[0] ?? ''}"`); return v!; };
    const time = (): number | undefined => {
      const a = arg();
      if (a === 'none') return undefined;
      const t = parseTime(a);
      if (t === undefined) fail('invalid time value');
      return t;
    };
    const int = (): number => { const n = parseInt0(args[0]); if (n === undefined) fail(`integer value ${args[0] === undefined ? 'missing' : 'invalid'}`); return n!; };
    /** first obtained value wins */
    const set = <K extends keyof Obtained>(k: K, v: Obtained[K]) => single((o: Obtained) => { if (o[k] === undefined) o[k] = v; });
    switch (keyword) {
      case 'ignoreunknown': return set('ignoreUnknown', arg());
      case 'user': return set('user', arg());
      case 'hostname': return set('hostname', arg());
      case 'hostkeyalias': return set('hostKeyAlias', arg());
      case 'port': {
        const v = arg();
        const p = parsePort(v, this.#services);
        if (p === undefined) fail(`bad port '${v}'`);
        return set('port', p);
      }
      case 'identityfile': {
        const v = arg();
        return single((o, flags) => {
          if (o.identityFiles.length >= MAX_IDENTITY_FILES) throw new SshConfigError('too many identity files');
          const userProvided = (flags & USERCONF) !== 0;
          if (!o.identityFiles.some((f, k) => f === v && o.identityUser[k] === userProvided)) { o.identityFiles.push(v); o.identityUser.push(userProvided); }
        });
      }
      case 'identitiesonly': return set('identitiesOnly', flag());
      case 'batchmode': return set('batchMode', flag());
      case 'checkhostip': return set('checkHostIp', flag());
      case 'hashknownhosts': return set('hashKnownHosts', flag());
      case 'stricthostkeychecking': {
        const v = STRICT[(args[0] ?? '').toLowerCase()];
        if (v === undefined) fail(`unsupported option "${args[0] ?? ''}"`);
        return set('strict', v);
      }
      case 'connecttimeout': return set('connectTimeout', time());
      case 'serveraliveinterval': return set('serverAliveInterval', time());
      case 'serveralivecountmax': return set('serverAliveCountMax', int());
      case 'connectionattempts': return set('connectionAttempts', int());
      case 'userknownhostsfile':
      case 'globalknownhostsfile': {
        for (const [i, a] of args.entries()) {
          if (a === '') fail(`keyword ${keyword} empty argument`);
          if (a.toLowerCase() === 'none' && (i > 0 || args.length > 1)) fail(`keyword ${keyword} "none" argument must appear alone`);
        }
        const list = [...args];
        const k = keyword === 'userknownhostsfile' ? 'userKnownHosts' : 'globalKnownHosts';
        return (o) => {
          if (o[k] !== undefined) return;
          if (list.length > MAX_HOSTS_FILES) throw new SshConfigError(`too many ${keyword} entries`);
          o[k] = list;
        };
      }
      case 'identityagent': {
        const v = arg();
        try { expandPercent(v, null, this.#local.env); } catch { fail(`invalid environment expansion ${v}`); }
        if (v.startsWith('$') && v[1] !== '{' && !/^[A-Za-z0-9_]+$/.test(v.slice(1))) fail(`invalid environment name ${v}`);
        return set('identityAgent', v);
      }
      case 'proxycommand': {
        const v = rest.replace(/^[ \t\r\n=]+/, '');
        // a ProxyJump obtained earlier wins, except `ProxyJump none` (what Debian's ssh -G 9.2 does)
        return (o) => { if ((o.jump === undefined || o.jump.none) && o.proxyCommand === undefined) o.proxyCommand = v; };
      }
      case 'proxyjump': {
        const v = rest.replace(/^[ \t\r\n=]+/, '');
        const j = parseJump(v, this.#services);
        if (!j) fail(`invalid ProxyJump "${v}"`);
        return (o) => {
          if (o.proxyCommand !== undefined || o.jump !== undefined) return;
          o.jump = j!;
          if (!j!.none) o.proxyCommand = 'none';
        };
      }
      case 'canonicalizehostname': return set('canonicalize', arg().toLowerCase());
      default: {
        if (FLAG_KEYWORDS.has(keyword)) flag();
        if (!MULTI_ARGUMENT.has(keyword) && args.length > 1) fail(`keyword ${keyword} extra arguments at end of line`);
        if (!OTHER.has(keyword)) return undefined;
        const v = args.join(' ');
        return (o) => { if (!o.other.has(keyword)) o.other.set(keyword, v); };
      }
    }
  }

  /** readconf.c match_cfg_line. */
  #match(condition: string, pass: Pass, flags: number, file: string, line: number): boolean {
    const o = pass.o;
    const local = this.#local;
    const port = o.port ?? 22;
    const ruser = o.user ?? local.userName;
    const host = flags & FINAL ? o.hostname! : o.hostname !== undefined ? expandPercent(o.hostname, { h: pass.host }) : pass.host;
    const fail = (msg: string): never => { throw new SshConfigError(`line ${line}: ${msg}`, { file, line }); };
    let result = true;
    let attributes = 0;
    let cp: string | null = condition;
    for (;;) {
      const [attribRaw, rest1] = strdelim(cp);
      cp = rest1;
      if (attribRaw === null || attribRaw === '') break;
      if (attribRaw.startsWith('#')) { cp = null; break; }
      const negate = attribRaw.startsWith('!');
      const attrib = (negate ? attribRaw.slice(1) : attribRaw).toLowerCase();
      if (attrib === 'all') {
        const [next, rest2] = strdelim(cp);
        if (attributes > 1 || (next !== null && next !== '' && !next.startsWith('#'))) fail(`'${attribRaw}' cannot be combined with other Match attributes`);
        cp = rest2;
        if (result) result = !negate;
        return result;
      }
      attributes++;
      if (attrib === 'canonical' || attrib === 'final') {
        if (attrib === 'final') pass.wantFinal = true;
        const r = (flags & FINAL) !== 0;
        if (r === negate) result = false;
        continue;
      }
      const [arg, rest3] = strdelim(cp);
      cp = rest3;
      if (arg === null || arg === '' || arg.startsWith('#')) fail(`missing Match criteria for ${attrib}`);
      let r: boolean;
      switch (attrib) {
        case 'host': r = matchHostname(host, arg!); break;
        case 'originalhost': r = matchHostname(pass.originalHost, arg!); break;
        case 'user': r = matchPatternList(ruser, arg!, false) === 1; break;
        case 'localuser': r = matchPatternList(local.userName, arg!, false) === 1; break;
        case 'exec': {
          const portStr = String(port);
          const cmd = expandPercent(arg!, {
            C: connectionHash(local.hostName, host, portStr, ruser), L: local.hostName.split('.')[0]!, d: local.homeDir, h: host,
            k: o.hostKeyAlias ?? host, l: local.hostName, n: pass.originalHost, p: portStr, r: ruser, u: local.userName, i: String(local.uid),
          });
          if (!result) continue; // a previous criterion failed: not run, as in OpenSSH
          const status = (this.options.exec ?? runInShell)(cmd);
          if (status < 0) fail(`match exec '${cmd}' error`);
          r = status === 0;
          break;
        }
        default: fail(`unsupported Match attribute ${attrib}`);
      }
      if (r! === negate) result = false;
    }
    if (attributes === 0) fail('one or more attributes required for Match');
    return result;
  }

  /** GLOB_TILDE: `~` is $HOME (glibc), `~user` the user's home directory. */
  #globTilde(pattern: string): string {
    if (!pattern.startsWith('~')) return pattern;
    const slash = pattern.indexOf('/');
    const user = slash < 0 ? pattern.slice(1) : pattern.slice(1, slash);
    const home = user === '' ? this.#local.env['HOME'] ?? this.#local.homeDir : lookupUserHome(user);
    return home === undefined ? pattern : home + (slash < 0 ? '' : pattern.slice(slash));
  }

  #finish(hostArg: string, host: string, o: Obtained): SshHostConfig {
    const local = this.#local;
    const user = o.user ?? local.userName;
    const port = o.port ?? 22;
    if (o.connectionAttempts !== undefined && o.connectionAttempts <= 0) throw new SshConfigError(`${hostArg}: invalid number of ConnectionAttempts`, { host: hostArg });
    const jump = o.jump && !o.jump.none ? o.jump : undefined;
    if (jump?.last) {
      const ju = jump.last.user ?? user;
      if (jump.last.host === host && (jump.last.port ?? 22) === port && ju === user) {
        throw new SshConfigError(`${hostArg}: jumphost loop via ${jump.last.host}`, { host: hostArg });
      }
    }
    const hostKeyAlias = o.hostKeyAlias?.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const tokens = clientTokens({ hostArg, host, port, user, keyAlias: hostKeyAlias }, local);
    const identityAgent = o.identityAgent === undefined ? undefined : expandClientPath(o.identityAgent, tokens, local);
    const ukh = o.userKnownHosts ?? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];
    const userKnownHostsFiles = ukh[0]?.toLowerCase() === 'none' ? [] : ukh.map((f) => expandClientPath(f, tokens, local));
    const gkh = o.globalKnownHosts ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
    const globalKnownHostsFiles = gkh[0]?.toLowerCase() === 'none' ? [] : gkh;
    const proxyCommand = o.proxyCommand !== undefined && o.proxyCommand.toLowerCase() !== 'none' && o.proxyCommand !== '' ? o.proxyCommand : undefined;
    const defaults = o.identityFiles.length === 0;
    return {
      hostArg, hostName: host, user, port,
      identityFiles: defaults ? ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk', '~/.ssh/id_xmss', '~/.ssh/id_dsa'] : [...o.identityFiles],
      defaultIdentityFiles: defaults,
      identitiesOnly: o.identitiesOnly ?? false,
      ...(identityAgent !== undefined ? { identityAgent } : {}),
      ...(jump ? { proxyJump: formatJump(jump), jump } : {}),
      ...(!jump && proxyCommand !== undefined ? { proxyCommand } : {}),
      ...(o.connectTimeout !== undefined ? { connectTimeout: o.connectTimeout } : {}),
      ...(o.serverAliveInterval !== undefined ? { serverAliveInterval: o.serverAliveInterval } : {}),
      ...(o.serverAliveCountMax !== undefined ? { serverAliveCountMax: o.serverAliveCountMax } : {}),
      strictHostKeyChecking: o.strict ?? 'ask',
      userKnownHostsFiles, globalKnownHostsFiles,
      ...(hostKeyAlias !== undefined ? { hostKeyAlias } : {}),
      checkHostIp: o.checkHostIp ?? false,
      hashKnownHosts: o.hashKnownHosts ?? false,
      connectionAttempts: o.connectionAttempts ?? 1,
      batchMode: o.batchMode ?? false,
      other: o.other,
    };
  }

  /** IdentityFile paths as OpenSSH loads them: `none` skipped, `~` then tokens and ${ENV} expanded. */
  expandIdentityFiles(c: SshHostConfig): string[] {
    const tokens = clientTokens({ hostArg: c.hostArg, host: c.hostName, port: c.port, user: c.user, keyAlias: c.hostKeyAlias }, this.#local);
    return c.identityFiles.filter((f) => f.toLowerCase() !== 'none').map((f) => expandClientPath(f, tokens, this.#local));
  }
}

/** `Match exec`: OpenSSH runs the command with $SHELL -c (or /bin/sh), stdin and stdout on /dev/null. */
function runInShell(command: string): number {
  const shell = process.env['SHELL'] || '/bin/sh';
  try { accessSync(shell, constants.X_OK); } catch { throw new SshConfigError(`Match exec: shell "${shell}" is not executable`); }
  const r = spawnSync(shell, ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.error || r.status === null) return -1;
  return r.status;
}

/** glob(3) of an absolute path pattern with `*`, `?` and `[...]` (names starting with `.` only when the pattern's do). */
export function globPaths(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) return existsSync(pattern) ? [pattern] : [];
  if (!pattern.startsWith('/')) return [];
  const parts = pattern.split('/').slice(1);
  let found = [''];
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?[]/.test(part)) {
        const p = `${dir}/${part}`;
        if (last ? existsSync(p) : isDir(p)) next.push(p);
        continue;
      }
      let names: string[] = [];
      try { names = readdirSync(dir === '' ? '/' : dir); } catch { continue; }
      const re = globPartToRegExp(part);
      for (const n of names) {
        if ((n.startsWith('.') && !part.startsWith('.')) || !re.test(n)) continue;
        const p = `${dir}/${n}`;
        if (last || isDir(p)) next.push(p);
      }
    }
    found = next;
  }
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}

function globPartToRegExp(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = part.indexOf(']', i + 2);
      if (close < 0) { re += '\\['; continue; }
      let body = part.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** The keyword values `ssh -G` prints for the keywords rig reads (for the differential test and for debugging). */
export function formatLikeSshG(c: SshHostConfig): Record<string, string> {
  const yn = (b: boolean) => (b ? 'yes' : 'no');
  return {
    host: c.hostArg, user: c.user, hostname: c.hostName, port: String(c.port),
    identityfile: c.identityFiles.join('\n'), identitiesonly: yn(c.identitiesOnly),
    ...(c.identityAgent !== undefined ? { identityagent: c.identityAgent } : {}),
    ...(c.proxyJump !== undefined ? { proxyjump: c.proxyJump } : {}),
    ...(c.proxyCommand !== undefined ? { proxycommand: c.proxyCommand } : {}),
    connecttimeout: c.connectTimeout === undefined ? 'none' : String(c.connectTimeout),
    // Debian's OpenSSH: BatchMode makes the default ServerAliveInterval 300 (keepalive-extensions patch)
    serveraliveinterval: String(c.serverAliveInterval ?? (c.batchMode ? 300 : 0)), serveralivecountmax: String(c.serverAliveCountMax ?? 3),
    stricthostkeychecking: { yes: 'true', no: 'false', ask: 'ask', 'accept-new': 'accept-new' }[c.strictHostKeyChecking],
    userknownhostsfile: c.userKnownHostsFiles.length ? c.userKnownHostsFiles.join(' ') : 'none',
    globalknownhostsfile: c.globalKnownHostsFiles.length ? c.globalKnownHostsFiles.join(' ') : 'none',
    ...(c.hostKeyAlias !== undefined ? { hostkeyalias: c.hostKeyAlias } : {}),
    checkhostip: yn(c.checkHostIp), hashknownhosts: yn(c.hashKnownHosts), connectionattempts: String(c.connectionAttempts),
    batchmode: yn(c.batchMode),
  };
}
