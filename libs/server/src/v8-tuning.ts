import { setFlagsFromString } from 'node:v8';
import type { AppConfig } from '@app/config';

/**
 * V8 settings for a long-running server process, applied at boot before any
 * WebAssembly is compiled (V8 reads them when it needs them; `NODE_OPTIONS`
 * does not accept them):
 *
 * - the old generation grows by `V8_HEAP_GROWING_PERCENT` (50 % by default) past
 *   its live size before the next full collection. Under sustained load V8's
 *   own factor lets it grow to several times the live size: the gateway sat at
 *   400+ MB RSS around ~70 MB of live objects; at 50 % it stays near 230 MB,
 *   with the same CPU per request in side-by-side benchmark runs;
 * - WebAssembly is compiled by V8's baseline compiler (Liftoff) only, when the
 *   database is a PostgreSQL server: Prisma's query compiler is a 3.4 MB wasm
 *   module whose optimising tier-up held ~40 MB of the process for its query
 *   planner (measured: a query 0.43 -> 0.51 ms, none on the gateway's request
 *   path). It also keeps undici's HTTP parser (llhttp, WebAssembly too) on the
 *   baseline tier: full tiering saved a few percent of CPU at 256 connections in
 *   side-by-side runs but cost ~50 MB RSS. The embedded database (PGlite, a whole
 *   PostgreSQL in WebAssembly) keeps the optimising tier.
 */
export function tuneV8(config: AppConfig): void {
  if (config.v8HeapGrowingPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.v8HeapGrowingPercent}`);
  if (config.database.url) setFlagsFromString('--liftoff-only');
}
