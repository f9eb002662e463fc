import type { Connector } from '../connectors/connector.ts';
import { buildReleaseScript } from './apply-script.ts';

/**
 * Release this run's lock on one host (one round trip, as the user that took it). Returns undefined when released,
 * else why not (the script's exit and stderr, or the lost connection): the host keeps the lock, and the caller must
 * say so — never report it released.
 */
export async function releaseHostLock(connector: Connector, runId: string, become: boolean | undefined): Promise<string | undefined> {
  try {
    const r = await connector.runScript(buildReleaseScript(runId), become === undefined ? {} : { become });
    return r.exitCode === 0 ? undefined : `the release script exited ${r.exitCode}${r.stderr.trim() ? `: ${r.stderr.trim().slice(-300)}` : ''}`;
  } catch (e) {
    return (e as Error).message;
  }
}
