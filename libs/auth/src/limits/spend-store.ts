import type { Redis, Result } from 'ioredis';
import { LRUCache } from 'lru-cache';

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
}

export class MemorySpendStore implements SpendStore {
  private readonly values = new LRUCache<string, number>({ max: 100_000 });

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
}

const KEY_PREFIX = 'llm-gateway:spend:';
const ADD_SCRIPT = `
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('INCRBYFLOAT', key, ARGV[1]) end
end
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gatewaySpendAdd(numKeys: number, ...args: Array<string | number>): Result<number, Context>;
  }
}

/** Spend shared by every replica: a float per entry, INCRBYFLOAT only once loaded. */
export class RedisSpendStore implements SpendStore {
  constructor(private readonly redis: Redis) {
    redis.defineCommand('gatewaySpendAdd', { lua: ADD_SCRIPT });
  }

  async get(entries: string[]): Promise<Array<number | undefined>> {
    if (entries.length === 0) return [];
    const values = await this.redis.mget(entries.map((e) => KEY_PREFIX + e));
    return values.map((v) => (v === null ? undefined : Number(v)));
  }

  async initialize(entry: string, spentUsd: number, ttlMs: number): Promise<number> {
    const key = KEY_PREFIX + entry;
    await this.redis.set(key, String(spentUsd), 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
    const value = await this.redis.get(key);
    return value === null ? spentUsd : Number(value);
  }

  async add(entries: string[], usd: number): Promise<void> {
    if (entries.length === 0 || usd === 0) return;
    await this.redis.gatewaySpendAdd(entries.length, ...entries.map((e) => KEY_PREFIX + e), usd);
  }
}
