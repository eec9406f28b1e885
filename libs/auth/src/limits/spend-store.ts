import type { Redis, Result } from 'ioredis';
import { LRUCache } from 'lru-cache';

/**
 * How long past its reload an entry's spend is still known (with the spend added
 * to it until then): what stands in while the usage log cannot be read.
 */
export const SPEND_LAST_KNOWN_MS = 60 * 60_000;

/**
 * Budget spend per scope and period (`key:<id>@<period start ms>`), in USD.
 * A value exists once it was loaded from the usage log; later spend is added
 * to it. Loaded values are forgotten after `ttlMs`, then loaded again, which
 * bounds any drift between the counter and the usage log.
 */
export interface SpendStore {
  /** The current spend of each entry, `undefined` for one not loaded yet. */
  get(entries: string[]): Promise<Array<number | undefined>>;
  /** Sets the loaded value unless another process did first; returns the value in force. */
  initialize(entry: string, spentUsd: number, ttlMs: number): Promise<number>;
  /** Adds spend to loaded entries (those not loaded will include it when loaded from the usage log). */
  add(entries: string[], usd: number): Promise<void>;
  /**
   * The entry's spend when it was last in force, up to {@link SPEND_LAST_KNOWN_MS}
   * after it was due for a reload; `undefined` if none.
   */
  lastKnown(entry: string): Promise<number | undefined>;
}

export class MemorySpendStore implements SpendStore {
  /** An entry past its TTL is kept (until evicted) for `lastKnown`; `get` does not return it. */
  private readonly values = new LRUCache<string, number>({ max: 100_000, noDeleteOnStaleGet: true });

  async get(entries: string[]): Promise<Array<number | undefined>> {
    return this.getNow(entries);
  }

  /** `get` without the promise, for the limiter's in-memory path. */
  getNow(entries: string[]): Array<number | undefined> {
    return entries.map((e) => this.values.get(e));
  }

  async initialize(entry: string, spentUsd: number, ttlMs: number): Promise<number> {
    const current = this.values.get(entry);
    if (current !== undefined) return current;
    this.values.set(entry, spentUsd, { ttl: ttlMs });
    return spentUsd;
  }

  async add(entries: string[], usd: number): Promise<void> {
    for (const entry of entries) {
      const current = this.values.get(entry);
      // noUpdateTTL keeps the reload schedule of the entry.
      if (current !== undefined) this.values.set(entry, current + usd, { noUpdateTTL: true });
    }
  }

  async lastKnown(entry: string): Promise<number | undefined> {
    // The remaining TTL goes negative once the entry is due for its reload.
    if (this.values.getRemainingTTL(entry) <= -SPEND_LAST_KNOWN_MS) return undefined;
    return this.values.peek(entry, { allowStale: true });
  }
}

const KEY_PREFIX = 'llm-gateway:spend:';
/** Each entry's spend again, kept {@link SPEND_LAST_KNOWN_MS} longer than the entry, for `lastKnown`. */
const LAST_KNOWN_PREFIX = 'llm-gateway:spend-last:';
/** KEYS: entry, its last-known copy, in pairs; ARGV[1]: USD. Adds only to loaded entries, and to their copies. */
const ADD_SCRIPT = `
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('INCRBYFLOAT', KEYS[i], ARGV[1])
    if redis.call('EXISTS', KEYS[i + 1]) == 1 then redis.call('INCRBYFLOAT', KEYS[i + 1], ARGV[1]) end
  end
end
return 1
`;
/** KEYS: entry, its last-known copy; ARGV: USD, TTL ms, the copy's TTL ms. Sets the entry unless set; returns the value in force. */
const INITIALIZE_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX')
local value = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[2], value, 'PX', ARGV[3])
return value
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gatewaySpendAdd(numKeys: number, ...args: Array<string | number>): Result<number, Context>;
    gatewaySpendInitialize(numKeys: number, ...args: Array<string | number>): Result<string, Context>;
  }
}

/** Spend shared by every replica: a float per entry, INCRBYFLOAT only once loaded. */
export class RedisSpendStore implements SpendStore {
  constructor(private readonly redis: Redis) {
    redis.defineCommand('gatewaySpendAdd', { lua: ADD_SCRIPT });
    redis.defineCommand('gatewaySpendInitialize', { lua: INITIALIZE_SCRIPT });
  }

  async get(entries: string[]): Promise<Array<number | undefined>> {
    if (entries.length === 0) return [];
    const values = await this.redis.mget(entries.map((e) => KEY_PREFIX + e));
    return values.map((v) => (v === null ? undefined : Number(v)));
  }

  async initialize(entry: string, spentUsd: number, ttlMs: number): Promise<number> {
    const ttl = Math.max(1, Math.round(ttlMs));
    const value = await this.redis.gatewaySpendInitialize(
      2,
      KEY_PREFIX + entry,
      LAST_KNOWN_PREFIX + entry,
      String(spentUsd),
      ttl,
      ttl + SPEND_LAST_KNOWN_MS,
    );
    return Number(value);
  }

  async add(entries: string[], usd: number): Promise<void> {
    if (entries.length === 0 || usd === 0) return;
    const keys = entries.flatMap((e) => [KEY_PREFIX + e, LAST_KNOWN_PREFIX + e]);
    await this.redis.gatewaySpendAdd(keys.length, ...keys, usd);
  }

  async lastKnown(entry: string): Promise<number | undefined> {
    const value = await this.redis.get(LAST_KNOWN_PREFIX + entry);
    return value === null ? undefined : Number(value);
  }
}
