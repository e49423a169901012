/**
 * The HTTP limits as a user writes them (config keys, CLI flags): whole MiB, and a plain ratio. Apart
 * from jsonClient.ts and historyServer/eventLogMode.ts, which load undici and yauzl: the config
 * schema and the CLI's flag parsing need these numbers without them (issue #12, start-up).
 */

/** `max_response_mb` / `--max-response-mb`: the most of one answer read (jsonClient.ts DEFAULT_MAX_RESPONSE_BYTES). */
export const MAX_RESPONSE_MB = { default: 256, min: 1, max: 4096 } as const;
/** `max_unpacked_mb` / `--max-unpacked-mb`: the most one attempt's /logs zip may unpack to (eventLogMode.ts), 64 GiB by default. */
export const MAX_UNPACKED_MB = { default: 65_536, min: 1, max: 1_048_576 } as const;
/** `max_unpack_ratio` / `--max-unpack-ratio`: unpacked bytes per byte of zip (eventLogMode.ts). */
export const MAX_UNPACK_RATIO = { default: 200, min: 2, max: 1_000_000 } as const;
