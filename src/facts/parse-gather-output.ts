import { createHash } from 'node:crypto';
import { InternalError, RemoteCommandError, UnreadableError } from '../errors.ts';
import type { CommandFact, FactRequest, FileFact, OsFact, ServiceFact } from './fact-request.ts';
import { MAX_CONTENT_BYTES } from './gather-script.ts';
import { MemoryHostFacts } from './host-facts.ts';

const b64 = (s: string | undefined): Buffer => (s === undefined || s === '.' || s === '-' ? Buffer.alloc(0) : Buffer.from(s, 'base64'));

/** Parse the records printed by a gather script (see gather-script.ts) into facts, keyed as requested. */
/** `stderr`: the gather script's, quoted in the error when its answer is incomplete (what the host's shell said). */
export function parseGatherOutput(requests: readonly FactRequest[], stdout: string, host: string, stderr = ''): MemoryHostFacts {
  let os: OsFact | undefined;
  const files = new Map<string, FileFact>();
  const commands = new Map<string, CommandFact>();
  const services = new Map<string, ServiceFact>();
  const packages = new Map<string, string | undefined>();
  const capabilities = new Map<string, string>();
  const capabilityErrors = new Map<string, string>();
  const pkgCursor = new Map<number, number>();
  /** Paths the login user may not read (or look up): an error for the host, never absent or empty. */
  const unreadable: string[] = [];
  const batch: FileBatch = { types: [], targets: new Map(), stats: [], sums: [], failed: false };
  let done = false;
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    const tag = f[0];
    if (tag === 'E') { done = true; continue; }
    if (tag === 'X') { batch.failed = true; continue; }
    if (tag === 'Fs') { batch.stats.push(f.slice(1)); continue; }
    if (tag === 'H') { batch.sums.push(f[1] ?? ''); continue; }
    if (tag === 'B') { batch.content = b64(f[1]); continue; }
    if (tag === 'O') {
      os = {
        hostname: f[1]?.startsWith('=') ? f[1].slice(1) : b64(f[1]).toString().trim(), id: f[2] ?? 'unknown', init: f[3] as OsFact['init'],
        packageManager: f[4] as OsFact['packageManager'], uid: Number(f[5]), ...(f[6] && f[6] !== '-' ? { user: f[6] } : {}),
      };
      continue;
    }
    const i = Number(f[1]);
    const req = requests[i];
    if (!req) continue; // lines of the epilogue use other tags
    if (tag === 'F' && req.kind === 'file') {
      if (f[2] === 'absent') { files.set(req.path, { exists: false }); continue; }
      if (f[2] === 'unreadable') { unreadable.push(req.path); continue; }
      const type = f[2] as FileFact['type'];
      const fact: FileFact = {
        exists: true, type, mode: f[3], owner: f[4], group: f[5], size: Number(f[6]),
        ...(f[7] && f[7] !== '-' ? { sha256: f[7] } : {}),
        ...(f[8] && f[8] !== '-' ? { content: b64(f[8]) } : {}),
        ...(f[9] && f[9] !== '-' ? { target: b64(f[9]).toString() } : {}),
        ...(type === 'file' && req.content !== false && Number(f[6]) > MAX_CONTENT_BYTES ? { contentOmitted: true } : {}),
        ...ids(f[10], f[11]),
      };
      files.set(req.path, fact);
    } else if (tag === 'T' && req.kind === 'file') {
      batch.types.push({ i, type: f[2] as FileFact['type'] });
    } else if (tag === 'L' && req.kind === 'file') {
      batch.targets.set(i, b64(f[2]).toString());
    } else if (tag === 'C' && req.kind === 'command') {
      commands.set(req.key, { exitCode: Number(f[2]), stdout: b64(f[3]).toString(), stderr: b64(f[4]).toString() });
    } else if (tag === 'S' && req.kind === 'service') {
      services.set(req.name, { name: req.name, exists: f[2] === '1', running: f[3] === '1' });
    } else if (tag === 'P' && req.kind === 'package') {
      const k = pkgCursor.get(i) ?? 0;
      pkgCursor.set(i, k + 1);
      const name = req.names[k];
      if (name !== undefined) packages.set(name, f[2] === '-' ? undefined : f[2]);
    } else if (tag === 'K' && req.kind === 'capability') {
      const problem = describeCapabilityRecord(f[2], f[3], req.path);
      if (problem === undefined) capabilities.set(req.path, b64(f[3]).toString().trim());
      else capabilityErrors.set(req.path, problem);
    }
  }
  if (!os || !done) {
    const said = stderr.trim().slice(-1000);
    throw new RemoteCommandError(`fact gathering did not complete (truncated answer)${said ? `; the host's shell said: ${said}` : ''}`, {
      host, hint: 'check that the host has a POSIX sh with coreutils (stat, sha256sum, base64)',
    });
  }
  if (unreadable.length) throw describeUnreadable(unreadable, os, host);
  if (!batch.failed) assembleFileBatch(requests, batch, files, host);
  for (const r of requests) {
    if (r.kind === 'file' && !files.has(r.path)) throw new InternalError(`no answer for file fact ${r.path}`, { host });
  }
  return new MemoryHostFacts({ os, files, commands, services, packages, capabilities, capabilityErrors });
}

/** The file batch of a gather script (see gather-script.ts), in the order its records arrived. */
interface FileBatch {
  /** `T` records: request index and type of each existing file. */
  readonly types: Array<{ i: number; type: FileFact['type'] }>;
  /** `L` records: symlink targets by request index. */
  readonly targets: Map<number, string>;
  /** `Fs` records (mode, owner, group, size, uid, gid), one per `T`. */
  readonly stats: string[][];
  /** `H` records, one per regular file. */
  readonly sums: string[];
  /** The `B` record: requested contents, concatenated. */
  content?: Buffer;
  /** `X`: the batch failed and the files came again as full `F` records. */
  failed: boolean;
}

function assembleFileBatch(requests: readonly FactRequest[], batch: FileBatch, files: Map<string, FileFact>, host: string): void {
  if (batch.stats.length !== batch.types.length) {
    throw new RemoteCommandError(`fact gathering returned ${batch.stats.length} file stats for ${batch.types.length} files (truncated answer)`, { host });
  }
  let sum = 0; let offset = 0;
  batch.types.forEach(({ i, type }, k) => {
    const req = requests[i];
    if (req?.kind !== 'file') return;
    const [mode, owner, group, sizeText, uid, gid] = batch.stats[k]!;
    const size = Number(sizeText);
    let fact: FileFact = { exists: true, type, mode: mode!, owner: owner!, group: group!, size, ...ids(uid, gid) };
    if (type === 'symlink') fact = { ...fact, target: batch.targets.get(i) ?? '' };
    if (type === 'file') {
      const sha256 = batch.sums[sum++];
      if (!sha256) throw new RemoteCommandError(`fact gathering returned no checksum for ${req.path} (truncated answer)`, { host });
      fact = { ...fact, sha256 };
      if (req.content !== false && size <= MAX_CONTENT_BYTES) {
        const content = (batch.content ?? Buffer.alloc(0)).subarray(offset, offset + size);
        offset += size;
        if (content.length !== size || createHash('sha256').update(content).digest('hex') !== sha256) {
          throw new RemoteCommandError(`${req.path} changed while rig was reading it`, { host, hint: 'something else is writing to it; run again' });
        }
        fact = { ...fact, content };
      } else if (req.content !== false) {
        fact = { ...fact, contentOmitted: true };
      }
    }
    files.set(req.path, fact);
  });
}

/** Numeric uid and gid of a record, when it has them. */
function ids(uid: string | undefined, gid: string | undefined): { uid?: number; gid?: number } {
  return { ...(uid && /^\d+$/.test(uid) ? { uid: Number(uid) } : {}), ...(gid && /^\d+$/.test(gid) ? { gid: Number(gid) } : {}) };
}

/**
 * The error for paths the gather could not read. A path rig cannot read is never planned as absent or empty: the
 * diff would be wrong and an apply would overwrite a file nobody saw. The host fails at gather time, nothing is applied.
 */
export function describeUnreadable(paths: readonly string[], os: OsFact, host: string): UnreadableError {
  const who = os.user ? `user ${os.user} (uid ${os.uid})` : `uid ${os.uid}`;
  const list = paths.length === 1 ? paths[0]! : `${paths.length} paths: ${paths.join(', ')}`;
  return new UnreadableError(`${who} cannot read ${list} (permission denied); rig never plans a path it cannot read as absent or empty, so nothing is planned or applied on this host`, {
    host, file: paths[0]!,
    hint: os.uid === 0
      ? 'root cannot read it either (a network file system mapping root to nobody, or a FUSE mount?): make it readable to root on the host'
      : `read ${paths.length === 1 ? 'it' : 'them'} as root: set \`ansible_become: true\` for this host (sudo), or \`become: true\` on the play or task, or log in as root`,
  });
}

/** Deduplicate fact requests (same file path: keep content if any asks for it). */
export function mergeFactRequests(requests: readonly FactRequest[]): FactRequest[] {
  const out: FactRequest[] = [];
  const fileIdx = new Map<string, number>();
  const seen = new Set<string>();
  for (const r of requests) {
    if (r.kind === 'file') {
      const at = fileIdx.get(r.path);
      if (at === undefined) { fileIdx.set(r.path, out.length); out.push({ kind: 'file', path: r.path, content: r.content !== false }); }
      else if (r.content !== false) out[at] = { kind: 'file', path: r.path, content: true };
      continue;
    }
    const key = JSON.stringify(r);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

/** Why a `K` record holds no capabilities (see gather-script.ts), or undefined for `ok`. */
function describeCapabilityRecord(status: string | undefined, data: string | undefined, path: string): string | undefined {
  switch (status) {
    case 'ok': return undefined;
    case 'absent': return `${path} does not exist`;
    case 'unreadable': return `${path} cannot be looked up or read by the login user`;
    case 'nogetcap': return 'getcap is not installed on the host (Debian: apt-get install libcap2-bin)';
    case 'error': return `getcap ${path} failed: ${b64(data).toString().trim() || 'no message'}`;
    default: return `unexpected capability record ${JSON.stringify(status)} for ${path}`;
  }
}
