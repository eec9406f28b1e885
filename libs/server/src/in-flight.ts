import type { ServerResponse } from 'node:http';

/** A request in flight that can end its response itself, cleanly, when told the process is stopping. */
export interface Interruptible {
  interrupt(): void;
}

/** By response, until it closes (a `Map`: cheaper per request than a `WeakMap`'s ephemerons). */
const interruptibles = new Map<ServerResponse, Interruptible>();

/**
 * Lets a shutdown whose wait is over end `res` through `request` (a generation
 * request: a 503, or a stream's final error event) rather than cut its connection,
 * until {@link unmarkInterruptible} (when `res` closes).
 */
export function markInterruptible(res: ServerResponse, request: Interruptible): void {
  interruptibles.set(res, request);
}

export function unmarkInterruptible(res: ServerResponse): void {
  interruptibles.delete(res);
}

/** The requests of one app between arrival and the end of their response, for graceful shutdown. */
export class InFlightRequests {
  private readonly open = new Set<ServerResponse>();
  private idleWaiters: Array<() => void> = [];
  private readonly closed: (this: ServerResponse) => void;

  constructor() {
    const open = this.open;
    const wake = () => this.wakeWaiters();
    this.closed = function (this: ServerResponse) {
      open.delete(this);
      if (open.size === 0) wake();
    };
  }

  get size(): number {
    return this.open.size;
  }

  /** Counts `res` until it closes. */
  track(res: ServerResponse): void {
    this.open.add(res);
    res.once('close', this.closed);
  }

  /** Interrupts the requests in flight that can be (see {@link markInterruptible}); returns how many. */
  interrupt(): number {
    let interrupted = 0;
    for (const res of [...this.open]) {
      const request = interruptibles.get(res);
      if (!request) continue;
      request.interrupt();
      interrupted++;
    }
    return interrupted;
  }

  /** Resolves `true` once no request is in flight, `false` if `timeoutMs` passes first. */
  waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.open.size === 0) return Promise.resolve(true);
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
