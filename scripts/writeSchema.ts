/** Writes dist/config.schema.json (contributed through `yamlValidation`) from the zod config schema. */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema } from '../src/collectors/config';

const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
writeFileSync(process.argv[2] ?? 'dist/config.schema.json', `${JSON.stringify({ ...schema, title: 'Spark Optimizer collector config' }, null, 2)}\n`);
