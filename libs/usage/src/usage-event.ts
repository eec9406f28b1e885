/** Token counts of one request, as providers report them (OpenAI's meaning). */
export interface TokenUsage {
  /** All input tokens, cached ones included. */
  promptTokens: number;
  completionTokens: number;
  /** Input tokens served from the provider's prompt cache (a subset of promptTokens). */
  cachedTokens: number;
}

export type UsageEndpoint = 'chat' | 'completions' | 'embeddings' | 'messages' | 'structured' | 'sessions';

/** What the request pipeline reports about one finished (or failed, or aborted) request. */
export interface UsageEvent {
  requestId: string;
  startedAt: Date;
  endpoint: UsageEndpoint;
  teamId: string | null;
  apiKeyId: string | null;
  userId?: string | null;
  agentId?: string | null;
  sessionId?: string | null;
  /** Configured provider name that answered (or last failed). */
  provider: string | null;
  modelRequested: string;
  modelServed: string | null;
  routeAlias?: string | null;
  usage: TokenUsage;
  latencyMs: number;
  ttftMs?: number | null;
  stream: boolean;
  /** HTTP status returned to the client (499 when the client went away). */
  status: number;
  errorCode?: string | null;
  fallbackCount: number;
  retryCount: number;
  /**
   * Not the request itself but tokens it consumed at another provider or model than its
   * own event's (an answer it could not use, before the route fell back): recorded and
   * priced under that provider and model, and counted in tokens and cost, never as a request.
   */
  discarded?: boolean;
}

/** Events published on the gateway's event bus (`GET /v1/events/stream`). */
export type GatewayEventType =
  | 'generation_started'
  | 'generation_completed'
  | 'provider_error'
  | 'fallback'
  | 'retry'
  | 'circuit_opened'
  | 'circuit_closed'
  | 'tool_started'
  | 'tool_completed';

export interface GatewayEvent {
  type: GatewayEventType;
  at: string;
  requestId?: string;
  data: Record<string, unknown>;
}
