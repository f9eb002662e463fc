/**
 * The repair of a node's CNI config after Istio CNI's chained mode (docs/cni-galaxy-repair.md): Istio turned
 * `00-galaxy.conf` into `00-galaxy.conflist` with `"cniVersion": "0.3.1"`, which Galaxy's plugin (up to 0.2.0) refuses,
 * and its uninstall leaves the conflist. The fix takes the conflist's first plugin, writes it back as the `.conf` with a
 * version the plugin supports, and removes the conflist. Pure: the caller gives the files and the plugins' answers.
 */
import { CniError } from '../errors.ts';
import { compareCniVersions, isCniVersion, requireSupportedVersions, type PluginVersionAnswer } from './plugin-versions.ts';

/** Plugin types Istio CNI adds to a chain (dropped by the repair, ignored by the guard's check). */
export const ISTIO_PLUGIN_TYPES: readonly string[] = Object.freeze(['istio-cni']);

export type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ParsedConflist {
  readonly name?: string;
  readonly cniVersion: string;
  readonly plugins: readonly Json[];
}

/** Parse a conflist's text: a JSON object with a version and a non-empty plugins array of objects with a type. */
export function parseConflist(text: string, path: string): ParsedConflist {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) {
    throw new CniError(`${path} is not valid JSON: ${(e as Error).message}`, { file: path, hint: 'fix or remove the file by hand; nothing was changed' });
  }
  if (!isObj(v)) throw new CniError(`${path} is not a JSON object`, { file: path });
  if (!isCniVersion(v['cniVersion'])) throw new CniError(`${path}: cniVersion ${JSON.stringify(v['cniVersion'])} is not a CNI version like "0.3.1"`, { file: path });
  const plugins = v['plugins'];
  if (!Array.isArray(plugins) || plugins.length === 0) throw new CniError(`${path}: no "plugins" list (is it a .conf saved under a .conflist name?)`, { file: path });
  plugins.forEach((p, i) => {
    if (!isObj(p) || typeof p['type'] !== 'string' || !p['type']) throw new CniError(`${path}: plugins[${i}] has no "type"`, { file: path });
  });
  if (v['name'] !== undefined && typeof v['name'] !== 'string') throw new CniError(`${path}: "name" is not a string`, { file: path });
  return { ...(typeof v['name'] === 'string' ? { name: v['name'] } : {}), cniVersion: v['cniVersion'], plugins: plugins as Json[] };
}

/** The highest of `supported` not above `cap`, or undefined. */
export function pickVersion(supported: readonly string[], cap: string): string | undefined {
  return [...supported].filter(isCniVersion).filter((s) => compareCniVersions(s, cap) <= 0).sort(compareCniVersions).pop();
}

export interface RepairInput {
  /** Full paths, for messages. */
  readonly conflistPath: string;
  readonly confPath: string;
  readonly binDir: string;
  /** The conflist's text, or undefined when it is absent. */
  readonly conflist?: string;
  readonly confExists: boolean;
  readonly answers: ReadonlyMap<string, PluginVersionAnswer>;
  /** The version of the conf before Istio, when the operator knows it (cni_original_version). */
  readonly originalVersion?: string;
}

export type RepairDecision =
  | { readonly action: 'none'; readonly reason: string }
  | { readonly action: 'repair'; readonly conf: string; readonly version: string; readonly type: string; readonly reason: string };

/**
 * Decide the repair of one node. No conflist: nothing to do (with the reason). The first non-Istio plugin supports the
 * conflist's version: left alone. Otherwise: the new conf is that plugin with `cniVersion` = the highest supported
 * version not above the original conf's (the plugin entry's own `cniVersion` as Istio kept it, else
 * `originalVersion`, else the conflist's) and `name` from the entry or the conflist. Throws CniError for a malformed
 * conflist, a plugin that does not answer VERSION, or no usable version.
 */
export function planGalaxyRepair(input: RepairInput): RepairDecision {
  if (input.conflist === undefined) {
    return { action: 'none', reason: input.confExists ? `${input.confPath} is in place and there is no ${input.conflistPath}: nothing to repair` : `neither ${input.confPath} nor ${input.conflistPath}: not a node with this CNI config, skipped` };
  }
  const list = parseConflist(input.conflist, input.conflistPath);
  const kept = list.plugins.filter((p) => !ISTIO_PLUGIN_TYPES.includes(String(p['type'])));
  const droppedIstio = list.plugins.length - kept.length;
  const primary = kept[0];
  if (!primary) throw new CniError(`${input.conflistPath}: every plugin is Istio's (${ISTIO_PLUGIN_TYPES.join(', ')}): no primary plugin to keep`, { file: input.conflistPath, hint: 'restore the node\'s own CNI config by hand' });
  const type = String(primary['type']);
  const supported = requireSupportedVersions(input.answers, type, input.binDir);
  if (supported.includes(list.cniVersion)) {
    return { action: 'none', reason: `plugin ${type} supports cniVersion ${list.cniVersion} of ${input.conflistPath}: left alone` };
  }
  const entryVersion = isCniVersion(primary['cniVersion']) ? primary['cniVersion'] : undefined;
  const cap = entryVersion ?? input.originalVersion ?? list.cniVersion;
  const version = pickVersion(supported, cap);
  if (!version) {
    throw new CniError(`plugin ${type} supports ${supported.join(', ')}, none at or below ${cap} (the original conf's version): cannot choose a cniVersion`, { file: input.conflistPath, hint: 'set cni_original_version to the version the node ran before' });
  }
  const { cniVersion: _v, name: entryName, ...rest } = primary;
  const name = typeof entryName === 'string' && entryName ? entryName : list.name;
  if (!name) throw new CniError(`${input.conflistPath}: neither the conflist nor plugins[0] has a "name", which a .conf needs`, { file: input.conflistPath });
  const conf = `${JSON.stringify({ cniVersion: version, name, ...rest }, null, 2)}\n`;
  const others = kept.slice(1).map((p) => String(p['type']));
  const reason = [
    `plugin ${type} supports ${supported.join(', ')}, not ${list.cniVersion}: plugins[0] as a .conf with cniVersion ${version}`,
    ...(droppedIstio ? [`Istio's ${droppedIstio === 1 ? 'entry' : `${droppedIstio} entries`} dropped`] : []),
    ...(others.length ? [`chained ${others.join(', ')} dropped`] : []),
  ].join('; ');
  return { action: 'repair', conf, version, type, reason };
}
