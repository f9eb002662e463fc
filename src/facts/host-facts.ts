import { CapabilityError, InternalError } from '../errors.ts';
import type { CommandFact, FileFact, HostFacts, OsFact, ServiceFact } from './fact-request.ts';

export interface HostFactsData {
  readonly os: OsFact;
  readonly files?: ReadonlyMap<string, FileFact> | Record<string, FileFact>;
  readonly commands?: ReadonlyMap<string, CommandFact> | Record<string, CommandFact>;
  readonly services?: ReadonlyMap<string, ServiceFact> | Record<string, ServiceFact>;
  readonly packages?: ReadonlyMap<string, string | undefined> | Record<string, string | undefined>;
  readonly capabilities?: ReadonlyMap<string, string> | Record<string, string>;
  /** Paths whose capabilities could not be read, with why (no such file, getcap missing, getcap's error). */
  readonly capabilityErrors?: ReadonlyMap<string, string> | Record<string, string>;
}

function toMap<V>(m: ReadonlyMap<string, V> | Record<string, V> | undefined): Map<string, V> {
  if (!m) return new Map();
  return m instanceof Map ? new Map(m) : new Map(Object.entries(m));
}

/**
 * The in-memory facts of one host. Built by the gatherer from the host's answer, or by tests from literals
 * (`new MemoryHostFacts({ os, files: { '/etc/x': { exists: false } } })`). The engine overlays planned changes on it
 * (`setFile`) so that later tasks of the same run see earlier tasks' results.
 */
export class MemoryHostFacts implements HostFacts {
  readonly os: OsFact;
  readonly files: Map<string, FileFact>;
  readonly commands: Map<string, CommandFact>;
  readonly services: Map<string, ServiceFact>;
  readonly packages: Map<string, string | undefined>;
  readonly capabilities: Map<string, string>;
  readonly capabilityErrors: Map<string, string>;

  constructor(data: HostFactsData) {
    this.os = data.os;
    this.files = toMap(data.files);
    this.commands = toMap(data.commands);
    this.services = toMap(data.services);
    this.packages = toMap(data.packages);
    this.capabilities = toMap(data.capabilities);
    this.capabilityErrors = toMap(data.capabilityErrors);
  }

  file(path: string): FileFact {
    const f = this.files.get(path);
    if (!f) throw new InternalError(`file fact for ${path} was not gathered (the module did not declare it in facts())`);
    return f;
  }
  command(key: string): CommandFact {
    const c = this.commands.get(key);
    if (!c) throw new InternalError(`command fact "${key}" was not gathered`);
    return c;
  }
  service(name: string): ServiceFact {
    const s = this.services.get(name);
    if (!s) throw new InternalError(`service fact "${name}" was not gathered`);
    return s;
  }
  packageVersion(name: string): string | undefined {
    if (!this.packages.has(name)) throw new InternalError(`package fact "${name}" was not gathered`);
    return this.packages.get(name);
  }
  capability(path: string): string {
    const c = this.capabilities.get(path);
    const problem = this.capabilityErrors.get(path);
    if (c === undefined && problem !== undefined) throw new CapabilityError(`cannot read the capabilities of ${path}: ${problem}`);
    if (c === undefined) throw new InternalError(`capability fact for ${path} was not gathered`);
    return c;
  }
  setFile(path: string, fact: FileFact): void {
    this.files.set(path, fact);
  }
}

export const DEBIAN_SYSV_OS: OsFact = Object.freeze({
  hostname: 'test', id: 'debian', init: 'sysv', packageManager: 'apt', uid: 0,
});
