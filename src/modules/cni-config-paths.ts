import { posix } from 'node:path';

/** Where a node's CNI config and plugins are (kubelet's defaults), shared by the CNI repair and guard modules. */
export interface CniPathProps {
  /** Config directory. @default '/etc/cni/net.d' */
  readonly dir?: string;
  /** The single-plugin config the node should have. @default '00-galaxy.conf' */
  readonly confName?: string;
  /** The chained config Istio CNI left. @default '00-galaxy.conflist' */
  readonly conflistName?: string;
  /** Plugin directory. @default '/opt/cni/bin' */
  readonly binDir?: string;
}

export const DEFAULT_CNI_CONF_DIR = '/etc/cni/net.d';
export const DEFAULT_CNI_BIN_DIR = '/opt/cni/bin';

export interface CniPaths { readonly dir: string; readonly confPath: string; readonly conflistPath: string; readonly binDir: string }

/** The full paths of the props (defaults filled in). */
export function resolveCniPaths(p: CniPathProps): CniPaths {
  const dir = p.dir ?? DEFAULT_CNI_CONF_DIR;
  return { dir, confPath: posix.join(dir, p.confName ?? '00-galaxy.conf'), conflistPath: posix.join(dir, p.conflistName ?? '00-galaxy.conflist'), binDir: p.binDir ?? DEFAULT_CNI_BIN_DIR };
}

/** Problems with the path props, each prefixed with its name. */
export function validateCniPaths(p: CniPathProps): string[] {
  const problems: string[] = [];
  for (const k of ['dir', 'binDir'] as const) {
    const v = p[k];
    if (v !== undefined && (typeof v !== 'string' || !v.startsWith('/') || v.includes('\n') || v.split('/').includes('..'))) problems.push(`${k}: an absolute path without ..`);
  }
  for (const k of ['confName', 'conflistName'] as const) {
    const v = p[k];
    if (v !== undefined && (typeof v !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(v))) problems.push(`${k}: a file name (letters, digits, . _ -)`);
  }
  if ((p.confName ?? '00-galaxy.conf') === (p.conflistName ?? '00-galaxy.conflist')) problems.push('confName, conflistName: must differ');
  return problems;
}
