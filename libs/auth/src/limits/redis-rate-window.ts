import type { Redis, Result } from 'ioredis';
import {
  type AdmitOutcome,
  BUCKET_MS,
  type RateWindowStore,
  type ScopeLimits,
  WINDOW_BUCKETS,
  bucketOf,
} from './rate-window';

/**
 * The sliding window of {@link MemoryRateWindowStore} as one Lua script, so
 * check-and-count is atomic across every replica sharing the Redis. One hash
 * per scope: fields `r<bucket>` (requests) and `t<bucket>` (tokens).
 * ARGV: bucket, window buckets, bucket ms, now ms, tokens, then rpm/tpm per key (-1 = none).
 * Returns {1, usage...} or {0, scope index, 1 = requests | 2 = tokens, retry ms, usage...}.
 */
const ADMIT_SCRIPT = `
local bucket = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local bucketMs = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local tokens = tonumber(ARGV[5])
local oldest = bucket - window + 1
local usage = {}
local lists = {}
for i, key in ipairs(KEYS) do
  local flat = redis.call('HGETALL', key)
  local r, t = 0, 0
  local rl, tl = {}, {}
  for j = 1, #flat, 2 do
    local field = flat[j]
    local b = tonumber(string.sub(field, 2))
    local v = tonumber(flat[j + 1])
    if b < oldest then
      redis.call('HDEL', key, field)
    elseif string.sub(field, 1, 1) == 'r' then
      r = r + v
      rl[#rl + 1] = {b, v}
    else
      t = t + v
      tl[#tl + 1] = {b, v}
    end
  end
  if t < 0 then t = 0 end
  usage[#usage + 1] = r
  usage[#usage + 1] = t
  lists[i] = {rl, tl}
end
local function retry(list, needed)
  table.sort(list, function(a, b) return a[1] < b[1] end)
  local freed = 0
  for _, entry in ipairs(list) do
    freed = freed + entry[2]
    if freed >= needed then
      local ms = (entry[1] + window) * bucketMs - now
      if ms < 1 then ms = 1 end
      return ms
    end
  end
  return window * bucketMs
end
for i = 1, #KEYS do
  local rpm = tonumber(ARGV[4 + 2 * i])
  local tpm = tonumber(ARGV[5 + 2 * i])
  local r, t = usage[2 * i - 1], usage[2 * i]
  if rpm >= 0 and r + 1 > rpm then
    local out = {0, i, 1, retry(lists[i][1], r + 1 - rpm)}
    for _, u in ipairs(usage) do out[#out + 1] = u end
    return out
  end
  if tpm >= 0 and t + tokens > tpm then
    local out = {0, i, 2, retry(lists[i][2], t + tokens - tpm)}
    for _, u in ipairs(usage) do out[#out + 1] = u end
    return out
  end
end
for _, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'r' .. bucket, 1)
  if tokens ~= 0 then redis.call('HINCRBY', key, 't' .. bucket, tokens) end
  redis.call('PEXPIRE', key, (window + 1) * bucketMs)
end
local out = {1}
for _, u in ipairs(usage) do out[#out + 1] = u end
return out
`;

const KEY_PREFIX = 'llm-gateway:rl:';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gatewayRateAdmit(numKeys: number, ...args: Array<string | number>): Result<number[], Context>;
  }
}

/** Rate windows in Redis, exact across replicas. */
export class RedisRateWindowStore implements RateWindowStore {
  constructor(private readonly redis: Redis) {
    redis.defineCommand('gatewayRateAdmit', { lua: ADMIT_SCRIPT });
  }

  async admit(scopes: ScopeLimits[], tokens: number, nowMs: number): Promise<AdmitOutcome> {
    const bucket = bucketOf(nowMs);
    const keys = scopes.map((s) => KEY_PREFIX + s.scope);
    const limits = scopes.flatMap((s) => [s.rpm ?? -1, s.tpm ?? -1]);
    const reply = await this.redis.gatewayRateAdmit(
      keys.length,
      ...keys,
      bucket,
      WINDOW_BUCKETS,
      BUCKET_MS,
      nowMs,
      tokens,
      ...limits,
    );
    const values = reply.map(Number);
    if (values[0] === 1) return { admitted: true, bucket, usage: pairs(values.slice(1)) };
    return {
      admitted: false,
      scopeIndex: values[1] - 1,
      dimension: values[2] === 1 ? 'requests' : 'tokens',
      retryAfterMs: values[3],
      usage: pairs(values.slice(4)),
    };
  }

  async adjustTokens(scopes: string[], bucket: number, delta: number, nowMs: number): Promise<void> {
    if (delta === 0 || bucket < bucketOf(nowMs) - WINDOW_BUCKETS + 1) return;
    const pipeline = this.redis.pipeline();
    for (const scope of scopes) {
      pipeline.hincrby(KEY_PREFIX + scope, `t${bucket}`, delta);
      pipeline.pexpire(KEY_PREFIX + scope, (WINDOW_BUCKETS + 1) * BUCKET_MS);
    }
    await pipeline.exec();
  }
}

function pairs(values: number[]): Array<{ requests: number; tokens: number }> {
  const out: Array<{ requests: number; tokens: number }> = [];
  for (let i = 0; i + 1 < values.length; i += 2) out.push({ requests: values[i], tokens: values[i + 1] });
  return out;
}
