import { defineModule, type Task } from './module.ts';

/** Marker task: run the handlers notified so far, here, instead of at the end of the play (Ansible's meta: flush_handlers). */
const flushHandlersModule = defineModule<Record<string, never>>({
  name: 'flush-handlers',
  validate: () => [],
  facts: () => [],
  plan: () => ({ noop: 'handlers flushed' }),
});

export function flushHandlers(): Task {
  return flushHandlersModule({}, { name: 'flush handlers' });
}

export const FLUSH_HANDLERS = 'flush-handlers';
