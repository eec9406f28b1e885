import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '@app/auth';
import type { UsageEndpoint } from '@app/usage';

/** Everything the pipeline knows about one inbound request, independent of Nest. */
export interface RequestContext {
  requestId: string;
  principal: Principal;
  endpoint: UsageEndpoint;
  startedAt: Date;
  /** Monotonic start, for latency. */
  startedMs: number;
  /** Aborted when the client disconnects before the response is complete. */
  signal: AbortSignal;
  /** True once the client went away. */
  readonly clientGone: boolean;
  agentId?: string | null;
  sessionId?: string | null;
}

/** Builds the context of an Express request, wiring client disconnect to an AbortSignal. */
export function requestContext(
  req: IncomingMessage & { id?: unknown; principal?: Principal },
  res: ServerResponse,
  endpoint: UsageEndpoint,
): RequestContext {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  if (!req.principal) throw new Error('requestContext needs an authenticated request (ApiKeyGuard)');
  return {
    requestId: typeof req.id === 'string' ? req.id : '',
    principal: req.principal,
    endpoint,
    startedAt: new Date(),
    startedMs: performance.now(),
    signal: controller.signal,
    get clientGone() {
      return controller.signal.aborted;
    },
  };
}
