import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { isBuiltCliFresh } from '../../bin/built-cli.js';
import { PROJECT_ROOT } from './run-rig.ts';

/**
 * Build the CLI (dist/) only when it is stale (CI's `npm ci` built it): rebuilding under rig processes of other test
 * files running from dist/ would pull their files away mid-load.
 */
export function ensureBuiltCli(): void {
  if (isBuiltCliFresh(PROJECT_ROOT)) return;
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build-cli.mjs')], { cwd: PROJECT_ROOT, stdio: 'pipe' });
}
