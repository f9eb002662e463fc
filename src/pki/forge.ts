import { createRequire } from 'node:module';
import type Forge from 'node-forge';

let loaded: typeof Forge | undefined;

/**
 * node-forge, loaded on first use (issuing certificates, reading the CA key): ~40 CommonJS files that `rig --version`
 * and a plan without certificates never need (issue 21).
 */
export function getForge(): typeof Forge {
  return loaded ??= createRequire(import.meta.url)('node-forge') as typeof Forge;
}
