import { CapabilityError } from '../errors.ts';

/**
 * Linux capability names in kernel order (capability(7); CAP_LAST_CAP = cap_checkpoint_restore, Linux 5.9). The
 * index is the capability's number; a name outside this list is refused at plan time.
 */
export const CAPABILITY_NAMES: readonly string[] = Object.freeze([
  'cap_chown', 'cap_dac_override', 'cap_dac_read_search', 'cap_fowner', 'cap_fsetid', 'cap_kill', 'cap_setgid', 'cap_setuid',
  'cap_setpcap', 'cap_linux_immutable', 'cap_net_bind_service', 'cap_net_broadcast', 'cap_net_admin', 'cap_net_raw',
  'cap_ipc_lock', 'cap_ipc_owner', 'cap_sys_module', 'cap_sys_rawio', 'cap_sys_chroot', 'cap_sys_ptrace', 'cap_sys_pacct',
  'cap_sys_admin', 'cap_sys_boot', 'cap_sys_nice', 'cap_sys_resource', 'cap_sys_time', 'cap_sys_tty_config', 'cap_mknod',
  'cap_lease', 'cap_audit_write', 'cap_audit_control', 'cap_setfcap', 'cap_mac_override', 'cap_mac_admin', 'cap_syslog',
  'cap_wake_alarm', 'cap_block_suspend', 'cap_audit_read', 'cap_perfmon', 'cap_bpf', 'cap_checkpoint_restore',
]);

const FLAG_ORDER = 'eip';

/** A file's capabilities: capability name → its flags, a subset of `eip` in that order (never empty). */
export type FileCapabilities = ReadonlyMap<string, string>;

/**
 * Parse capability text as cap_from_text(3) reads it (cap_text_formats(7)) and getcap prints it, in any of its forms:
 * `cap_net_bind_service=ep`, `cap_net_bind_service+ep`, `= cap_net_bind_service+ep` (libcap < 2.3x), several clauses
 * (`cap_a,cap_b=ep cap_c+p`), `all=ep`, `cap_x=ep-e`. An empty text is "none". A trailing ` [rootid=N]` (namespaced
 * file capabilities) is refused: rig does not manage those. Throws CapabilityError naming the offending clause.
 */
export function parseCapabilities(text: string): FileCapabilities {
  const caps = new Map<number, Set<string>>();
  const trimmed = text.trim();
  if (/\[rootid=/.test(trimmed)) {
    throw new CapabilityError(`capabilities ${JSON.stringify(text)} are namespaced ([rootid=…]); rig manages only host file capabilities`);
  }
  for (const clause of trimmed === '' ? [] : trimmed.split(/\s+/)) {
    const m = /^([^=+-]*)((?:[=+-][a-zA-Z]*)+)$/.exec(clause);
    if (!m) throw new CapabilityError(`capability text ${JSON.stringify(text)}: clause ${JSON.stringify(clause)} is not like cap_net_bind_service=ep`);
    const names = m[1]!;
    const numbers = names === '' || names.toLowerCase() === 'all'
      ? CAPABILITY_NAMES.map((_n, i) => i)
      : names.split(',').map((n) => capabilityNumber(n, text));
    if (names === '' && !m[2]!.startsWith('=')) throw new CapabilityError(`capability text ${JSON.stringify(text)}: clause ${JSON.stringify(clause)} names no capability`);
    for (const [, op, flags] of m[2]!.matchAll(/([=+-])([a-zA-Z]*)/g)) {
      for (const f of flags!) if (!FLAG_ORDER.includes(f.toLowerCase())) throw new CapabilityError(`capability text ${JSON.stringify(text)}: unknown flag ${JSON.stringify(f)} (flags are e, i, p)`);
      const fl = flags!.toLowerCase();
      for (const n of numbers) {
        const set = caps.get(n) ?? new Set<string>();
        if (op === '=') set.clear();
        for (const f of fl) if (op === '-') set.delete(f); else set.add(f);
        caps.set(n, set);
      }
    }
  }
  const out = new Map<string, string>();
  for (const n of [...caps.keys()].sort((a, b) => a - b)) {
    const flags = [...FLAG_ORDER].filter((f) => caps.get(n)!.has(f)).join('');
    if (flags) out.set(CAPABILITY_NAMES[n]!, flags);
  }
  return out;
}

function capabilityNumber(name: string, text: string): number {
  const i = CAPABILITY_NAMES.indexOf(name.toLowerCase());
  if (i < 0) {
    throw new CapabilityError(`unknown capability ${JSON.stringify(name)} in ${JSON.stringify(text)}`, {
      hint: 'use a name from capability(7), e.g. cap_net_bind_service (`capsh --supports=NAME` checks one)',
    });
  }
  return i;
}

/**
 * The one text of a set of file capabilities: capabilities in kernel order, grouped by identical flags
 * (`cap_net_admin,cap_net_bind_service=ep cap_chown=p`); '' when none. Two texts mean the same set exactly when their
 * canonical forms are equal, so a converged run compares equal whatever form getcap printed.
 */
export function formatCapabilities(caps: FileCapabilities): string {
  const groups = new Map<string, string[]>();
  for (const name of CAPABILITY_NAMES) {
    const flags = caps.get(name);
    if (!flags) continue;
    if (!groups.has(flags)) groups.set(flags, []);
    groups.get(flags)!.push(name);
  }
  return [...groups].map(([flags, names]) => `${names.join(',')}=${flags}`).join(' ');
}

/** Canonical text of capability text in any form (see parseCapabilities). */
export function normalizeCapabilities(text: string): string {
  return formatCapabilities(parseCapabilities(text));
}

/** Every capability of `a` and `b`, flags united. */
export function uniteCapabilities(a: FileCapabilities, b: FileCapabilities): FileCapabilities {
  const out = new Map(a);
  for (const [name, flags] of b) out.set(name, [...FLAG_ORDER].filter((f) => flags.includes(f) || (a.get(name) ?? '').includes(f)).join(''));
  return out;
}

/**
 * Why the kernel would refuse these as a file's capabilities, or undefined. A file has ONE effective bit: the
 * effective set is empty or exactly the union of the permitted and inheritable sets (setcap: "effective file
 * capabilities must either be empty, or exactly match the union of selected permitted and inheritable bits").
 */
export function checkFileCapabilities(caps: FileCapabilities): string | undefined {
  const withE = [...caps].filter(([, f]) => f.includes('e'));
  if (withE.length === 0) return undefined;
  const eOnly = withE.filter(([, f]) => f === 'e').map(([n]) => n);
  if (eOnly.length) return `${eOnly.join(',')} would be effective without being permitted or inheritable (give them p, e.g. ${eOnly[0]}=ep)`;
  const noE = [...caps].filter(([, f]) => !f.includes('e')).map(([n]) => n);
  if (noE.length) {
    return `a file has one effective bit for all its capabilities: ${withE.map(([n]) => n).join(',')} are effective but ${noE.join(',')} are not (make all of them e, or none)`;
  }
  return undefined;
}

/** Readable difference between two canonical sets: `adds cap_net_bind_service=ep`, `removes cap_chown=p`. */
export function describeCapabilityChange(before: string, after: string): string {
  const b = parseCapabilities(before);
  const a = parseCapabilities(after);
  const added: string[] = []; const removed: string[] = []; const changed: string[] = [];
  for (const [n, f] of a) { const old = b.get(n); if (old === undefined) added.push(`${n}=${f}`); else if (old !== f) changed.push(`${n}=${old}→${f}`); }
  for (const [n, f] of b) if (!a.has(n)) removed.push(`${n}=${f}`);
  const parts = [added.length ? `adds ${added.join(' ')}` : '', changed.length ? `changes ${changed.join(' ')}` : '', removed.length ? `removes ${removed.join(' ')}` : ''].filter(Boolean);
  return parts.join(', ') || 'no difference';
}
