/**
 * Every error the platform can report, by code. The HTTP status and the OpenAI
 * error `type` of each code live in one table, so a new code cannot be added
 * without deciding how it looks on the wire.
 */
export const ERROR_CODES = {
  invalid_request_error: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  unauthorized: { status: 401, type: 'authentication_error' },
  permission_denied: { status: 403, type: 'permission_error' },
  model_not_allowed: { status: 403, type: 'permission_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  budget_exceeded: { status: 429, type: 'insufficient_quota' },
  internal_error: { status: 500, type: 'server_error' },
  upstream_error: { status: 502, type: 'upstream_error' },
  no_provider_available: { status: 503, type: 'service_unavailable' },
  service_unavailable: { status: 503, type: 'service_unavailable' },
  database_unavailable: { status: 503, type: 'service_unavailable' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface GatewayErrorOptions {
  /** The request field at fault, as OpenAI reports it (`messages`, `model`...). */
  param?: string | null;
  /** Seconds after which a retry may succeed; becomes the `retry-after` header. */
  retryAfter?: number;
  /** Overrides the status of the code (an upstream's own 4xx passed through). */
  status?: number;
  /** Extra response headers (rate-limit headers on a 429, for instance). */
  headers?: Record<string, string>;
  /**
   * The provider's own code for an error it blames on the request (`context_length_exceeded`),
   * sent as the body's `code` in place of the gateway's: clients act on it.
   */
  providerCode?: string;
  /**
   * The provider has no place for what the request asks (`n` > 1 on Anthropic, token-id
   * prompts on Ollama): another provider may serve it, and a route passes this target
   * over. Not on the wire.
   */
  unsupported?: boolean;
  /**
   * Azure's `innererror` on an error it blames on the request (which content filter
   * fired), passed on in the body as Azure writes it: Azure clients read it.
   */
  innererror?: Record<string, unknown>;
  cause?: unknown;
}

/** The one error type domain code throws; the exception filters turn it into a response. */
export class GatewayError extends Error {
  readonly param: string | null;
  readonly retryAfter?: number;
  readonly headers?: Record<string, string>;
  readonly providerCode?: string;
  /** See {@link GatewayErrorOptions.unsupported}. */
  readonly unsupported: boolean;
  readonly innererror?: Record<string, unknown>;
  private readonly statusOverride?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: GatewayErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.param = options.param ?? null;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers;
    this.providerCode = options.providerCode;
    this.unsupported = options.unsupported === true;
    this.innererror = options.innererror;
    this.statusOverride = options.status;
  }

  get status(): number {
    return this.statusOverride ?? ERROR_CODES[this.code].status;
  }

  get type(): string {
    return ERROR_CODES[this.code].type;
  }

  /** The `code` of the error body: the provider's own when it gave one, else the gateway's. */
  get wireCode(): string {
    return this.providerCode ?? this.code;
  }

  toEnvelope(): ErrorEnvelope {
    const envelope = errorEnvelope(this.message, this.type, this.wireCode, this.param);
    if (this.innererror !== undefined) envelope.error.innererror = this.innererror;
    return envelope;
  }
}

/** OpenAI's error body: `{"error": {"message", "type", "param", "code"}}` (and Azure's `innererror`). */
export interface ErrorEnvelope {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
    innererror?: Record<string, unknown>;
  };
}

export function errorEnvelope(
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): ErrorEnvelope {
  return { error: { message, type, param, code } };
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

/** `value` as an `Error` (what was thrown or rejected need not be one). */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * A 400 for what a provider has no place for (see {@link GatewayErrorOptions.unsupported}):
 * a route passes that target over for one that can serve the request.
 */
export function unsupportedByProvider(param: string | null, message: string): GatewayError {
  return new GatewayError('invalid_request_error', message, { param, unsupported: true });
}
