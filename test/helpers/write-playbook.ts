import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './run-rig.ts';

/** Write `<dir>/<name>.ts`: `body` after imports of definePlaybook and the `file` module (for bad-input playbooks). */
export function writePlaybook(dir: string, name: string, body: string): string {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, `import { definePlaybook } from '${PROJECT_ROOT}/src/playbook/types.ts';\nimport { file } from '${PROJECT_ROOT}/src/modules/index.ts';\n${body}\n`);
  return file;
}
