import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { GatewayError } from '@app/contracts';
import { RedisConnections } from '@app/server';

/** Failed logins allowed per window before the account (email) is locked out. */
export const LOGIN_FAILURES_PER_EMAIL = 5;
/** Failed logins allowed per window from one client address, whatever the emails. */
export const LOGIN_FAILURES_PER_IP = 20;
export const LOGIN_WINDOW_MS = 15 * 60_000;

const KEY_PREFIX = 'llm-gateway:login-failures:';

/**
 * Counts failed logins per email and per IP in a fixed window that starts at the
 * first failure (in Redis when configured, so every admin replica agrees; in this
 * process while Redis is away). Past the limit, logins are refused with 429 and
 * `retry-after` before any password check.
 */
@Injectable()
export class LoginThrottle {
  private readonly memory = new LRUCache<string, { count: number; resetAt: number }>({
    max: 50_000,
    ttl: LOGIN_WINDOW_MS,
  });

  constructor(private readonly redis: RedisConnections) {}

  /** @throws GatewayError 429 `rate_limit_exceeded` when the email or the address is locked out */
  async assertAllowed(email: string, ip: string): Promise<void> {
    for (const [key, limit, what] of this.keys(email, ip)) {
      const { count, retryAfterMs } = await this.read(key);
      if (count >= limit) {
        const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
        throw new GatewayError('rate_limit_exceeded', `Too many failed logins ${what}; try again in ${retryAfter} s.`, {
          retryAfter,
        });
      }
    }
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    for (const [key] of this.keys(email, ip)) await this.increment(key);
  }

  /** A successful login clears the account's count (not the address's). */
  async recordSuccess(email: string): Promise<void> {
    const [[key]] = this.keys(email, '');
    this.memory.delete(key);
    await this.redis.sharedOr(
      (client) => client.del(KEY_PREFIX + key),
      () => 0,
    );
  }

  private keys(email: string, ip: string): Array<[string, number, string]> {
    const emailKey = `email:${createHash('sha256').update(email.toLowerCase()).digest('hex')}`;
    return [
      [emailKey, LOGIN_FAILURES_PER_EMAIL, 'for this account'],
      [`ip:${ip}`, LOGIN_FAILURES_PER_IP, 'from this address'],
    ];
  }

  /** In Redis when it answers; this process's own count while it does not (the throttle never fails a login). */
  private read(key: string): Promise<{ count: number; retryAfterMs: number }> {
    return this.redis.sharedOr(
      async (client) => {
        const [count, ttl] = await Promise.all([client.get(KEY_PREFIX + key), client.pttl(KEY_PREFIX + key)]);
        return { count: Number(count ?? 0), retryAfterMs: Math.max(0, ttl) };
      },
      () => {
        const entry = this.memory.get(key);
        return entry ? { count: entry.count, retryAfterMs: entry.resetAt - Date.now() } : { count: 0, retryAfterMs: 0 };
      },
    );
  }

  private async increment(key: string): Promise<void> {
    await this.redis.sharedOr(
      async (client) => {
        await client
          .multi()
          .incr(KEY_PREFIX + key)
          .pexpire(KEY_PREFIX + key, LOGIN_WINDOW_MS, 'NX')
          .exec();
      },
      () => {
        const entry = this.memory.get(key);
        if (entry) this.memory.set(key, { ...entry, count: entry.count + 1 }, { noUpdateTTL: true });
        else this.memory.set(key, { count: 1, resetAt: Date.now() + LOGIN_WINDOW_MS });
      },
    );
  }
}
