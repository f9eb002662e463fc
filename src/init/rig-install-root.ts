import { fileURLToPath } from 'node:url';
import { findBuiltRoot } from '../playbook/typescript-loader.ts';

/** The directory of the running rig (holding package.json, src/, scaffold/), from source or from a build (dist/). */
export function findRigInstallRoot(moduleUrl: string = import.meta.url): string {
  return fileURLToPath(findBuiltRoot(moduleUrl) ?? new URL('../../', moduleUrl));
}
