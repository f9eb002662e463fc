import type { Host } from '../inventory/types.ts';
import type { Connector } from './connector.ts';
import { LocalConnector } from './local-connector.ts';
import { SshConnector, type SshConnectorOptions } from './ssh-connector.ts';

/** The connector for a host: local for `ansible_connection=local`, SSH otherwise. */
export function createConnector(host: Host, options: SshConnectorOptions = {}): Connector {
  return host.local ? new LocalConnector(host) : new SshConnector(host, options);
}
