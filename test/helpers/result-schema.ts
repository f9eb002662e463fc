import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { PROJECT_ROOT } from './run-rig.ts';

export const RESULT_SCHEMA_PATH = join(PROJECT_ROOT, 'docs', 'json-schema', 'rig-result.v1.json');

/** Errors of a value against the schema (as published, and closed): [] when valid. */
export type ResultValidator = (value: unknown) => string[];

type Schema = Record<string, unknown>;

/**
 * The schema with every object that lists its members closed (`unevaluatedProperties: false`): what rig prints must
 * be documented, member by member. `if`/`not` subschemas stay open (they test, they do not describe).
 */
export function closeSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) out[k] = k === 'if' || k === 'not' || k === 'const' || k === 'enum' ? v : k === 'properties' || k === '$defs' ? Object.fromEntries(Object.entries(v as Schema).map(([n, s]) => [n, closeSchema(s)])) : closeSchema(v);
  if (out['type'] === 'object' && out['properties'] && !('additionalProperties' in out) && !('unevaluatedProperties' in out)) out['unevaluatedProperties'] = false;
  return out;
}

/** Compile docs/json-schema/rig-result.v1.json (JSON Schema 2020-12, strict) as published and closed. */
export function compileResultSchema(schemaText = readFileSync(RESULT_SCHEMA_PATH, 'utf8')): ResultValidator {
  const schema = JSON.parse(schemaText) as Schema;
  const compile = (s: Schema) => {
    const ajv = new Ajv2020.default({ strict: true, allErrors: true, strictRequired: false });
    addFormats.default(ajv);
    return ajv.compile(s);
  };
  const open = compile(schema);
  const closed = compile({ ...(closeSchema(schema) as Schema), $id: `${String(schema["$id"])}.closed` });
  return (value) => {
    const errors: string[] = [];
    for (const [name, v] of [['schema', open], ['closed schema (every member documented)', closed]] as const) {
      if (!v(value)) {
        errors.push(...(v.errors ?? []).map((e) => (e.keyword === 'unevaluatedProperties'
          ? `${e.instancePath || '/'}: member "${String((e.params as { unevaluatedProperty?: string }).unevaluatedProperty)}" is not in the schema: document it in docs/json-schema/rig-result.v1.json`
          : `${name}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)));
      }
    }
    return errors;
  };
}
