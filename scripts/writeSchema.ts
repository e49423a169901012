/** Writes dist/config.schema.json (contributed through `yamlValidation`) from the zod config schema, with each key's description. */
import { writeFileSync } from 'node:fs';
import * as z from 'zod';
import { KEY_DOCS, configSchema } from '../src/collectors/config';

const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });

/** Adds KEY_DOCS descriptions to every `properties` entry, wherever it is nested. */
function describe(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(describe);
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  const props = o.properties as Record<string, Record<string, unknown>> | undefined;
  if (props) for (const [k, v] of Object.entries(props)) if (KEY_DOCS[k] && v.description === undefined) v.description = KEY_DOCS[k];
  Object.values(o).forEach(describe);
}
describe(schema);
writeFileSync(process.argv[2] ?? 'dist/config.schema.json', `${JSON.stringify({ ...schema, title: 'Spark Optimizer collector config' }, null, 2)}\n`);
