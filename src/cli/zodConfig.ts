import { config } from 'zod';

/**
 * zod without code of its own (issue #12: start-up). By default zod compiles a parser for each object
 * schema (`new Function`) the first time it parses one; a command parses a handful of objects (its
 * flags or config, the records of a few logs), and generating and compiling those parsers took ~2% of
 * a small `collect`'s CPU (25 of 1,340 million instructions). zod reads the setting when a schema is
 * built, so main.ts sets it before a command's modules load. The event-log pool's threads (worker.js),
 * which check many records, keep the compiled parsers. A module of its own: `import('zod')` would keep
 * all of zod in the bundle (its whole namespace), this keeps what is used.
 */
export function zodWithoutCodegen(): void {
  config({ jitless: true });
}
