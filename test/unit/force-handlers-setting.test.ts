import test from 'ava';
import { resolveSettings } from '../../src/cli/effective-settings.ts';
import { parseProjectConfig } from '../../src/cli/project-config.ts';

const get = (...a: Parameters<typeof resolveSettings>) => resolveSettings(...a).find((s) => s.key === 'force_handlers')!;
const project = (text: string) => parseProjectConfig(text, '/proj/rig.yaml');

test('force_handlers: --force-handlers > RIG_FORCE_HANDLERS > rig.yaml > off', (t) => {
  t.like(get({}, {}, undefined, '/cwd'), { value: undefined, source: 'default' });
  t.like(get({}, {}, project('force_handlers: true\n'), '/cwd'), { value: true, source: 'rig.yaml:1' });
  t.like(get({}, { RIG_FORCE_HANDLERS: 'no' }, project('force_handlers: true\n'), '/cwd'), { value: false, source: 'env RIG_FORCE_HANDLERS' });
  t.like(get({ force_handlers: true }, { RIG_FORCE_HANDLERS: 'no' }, undefined, '/cwd'), { value: true, source: 'flag --force-handlers' });
  t.throws(() => project('force_handlers: sometimes\n'), { message: /force_handlers: expected true or false/ });
});
