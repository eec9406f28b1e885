import type { ServerResponse } from 'node:http';

/** Counts requests between arrival and the end of their response, for graceful shutdown. */
export class InFlightRequests {
  private count = 0;
  private idleWaiters: Array<() => void> = [];

  get size(): number {
    return this.count;
  }

  /** Counts `res` until it closes. */
  track(res: ServerResponse): void {
    this.count++;
    res.once('close', this.closed);
  }

  private readonly closed = (): void => {
    this.count--;
    if (this.count === 0) this.wakeWaiters();
  };

  /** Resolves `true` once no request is in flight, `false` if `timeoutMs` passes first. */
  waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(wake);
    });
  }

  private wakeWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
