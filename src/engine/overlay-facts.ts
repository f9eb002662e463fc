import type { Change } from '../core/change.ts';
import type { MemoryHostFacts } from '../facts/host-facts.ts';

/**
 * Update in-memory facts as if `change` had been applied, so that later tasks in the same run plan against the
 * state earlier tasks leave behind (two tasks editing one file compose; a handler sees the new config).
 */
export function overlayChange(facts: MemoryHostFacts, change: Change): void {
  switch (change.kind) {
    case 'write-file':
      facts.setFile(change.path, { ...change.after, exists: true, type: 'file', content: Buffer.from(change.content, 'base64') });
      break;
    case 'restore-preimage':
      facts.setFile(change.path, { ...change.after, exists: true, type: 'file' });
      break;
    case 'set-attributes':
    case 'ensure-directory': {
      const prev = facts.files.get(change.path);
      facts.setFile(change.path, { ...(prev ?? {}), ...change.after, exists: true });
      break;
    }
    case 'remove-path':
      facts.setFile(change.path, { exists: false });
      break;
    case 'symlink':
      facts.setFile(change.path, { exists: true, type: 'symlink', target: change.target, mode: '0777', owner: 'root', group: 'root' });
      break;
    case 'set-capability':
      facts.capabilities.set(change.path, change.afterCaps);
      break;
    case 'service':
      if (change.action === 'start' || change.action === 'restart') {
        const s = facts.services.get(change.service);
        if (s) facts.services.set(change.service, { ...s, running: true });
      } else if (change.action === 'stop') {
        const s = facts.services.get(change.service);
        if (s) facts.services.set(change.service, { ...s, running: false });
      }
      break;
    case 'package':
      for (const p of change.install) facts.packages.set(p, 'planned');
      for (const p of change.remove) facts.packages.set(p, undefined);
      break;
    default:
      break;
  }
}
