import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSavedPlanFile } from '../../src/cli/is-saved-plan-file.ts';

test('a saved plan is told from a playbook by its content, not its name', (t) => {
  const d = mkdtempSync(join(tmpdir(), 'rig-saved-plan-'));
  const w = (name: string, text: string): string => { writeFileSync(join(d, name), text); return join(d, name); };
  t.true(isSavedPlanFile(w('x.plan', '\n {\n "format": "rig-plan/1"}')));
  t.true(isSavedPlanFile(w('noext', '{}')));
  t.true(isSavedPlanFile(w('broken.json', 'not json')), '.json: the saved-plan error, not an import error');
  t.false(isSavedPlanFile(w('p.ts', "import { definePlaybook } from 'x';\n")));
  t.false(isSavedPlanFile(join(d, 'missing')), 'left to the playbook loader');
});
