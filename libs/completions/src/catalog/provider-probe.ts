import { randomUUID } from 'node:crypto';
import { GatewayError, asError } from '@app/contracts';
import { createProviderAdapter, type CallContext, type ModelInfo, type ProviderConfig } from '@app/providers';

/** The outcome of checking a provider configuration against its upstream. */
export interface ProbeResult {
  /** The upstream answered its health check. */
  ok: boolean;
  latencyMs: number;
  /** Why not, when `ok` is false (the provider's own message, credentials scrubbed). */
  message?: string;
  /** A few of the models it reports (empty when listing failed or was not attempted). */
  models: string[];
  /** How many models it reports; `null` when listing failed. */
  modelCount: number | null;
}

const SAMPLE_SIZE = 20;
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

/** Nobody aborts a probe: the adapter's own timeout bounds it, so a timeout is reported as one. */
const NEVER_ABORTED = new AbortController().signal;

function callContext(timeoutMs: number): CallContext {
  return { signal: NEVER_ABORTED, timeoutMs, requestId: `probe-${randomUUID()}` };
}

/** The provider's own timeout when it has one, else {@link DEFAULT_PROBE_TIMEOUT_MS}. */
export const probeTimeoutMs = (config: Pick<ProviderConfig, 'timeoutMs'>): number =>
  config.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;

/** The error of a failed discovery: 504 `upstream_timeout` when the upstream did not answer in time, else 502. */
export function discoveryError(provider: string, error: unknown, timeoutMs: number): GatewayError {
  const cause = asError(error);
  if (error instanceof GatewayError && error.code === 'upstream_timeout') {
    return new GatewayError(
      'upstream_timeout',
      `Model discovery for provider "${provider}" failed: no answer within ${timeoutMs} ms.`,
      { cause },
    );
  }
  return new GatewayError('upstream_error', `Model discovery for provider "${provider}" failed: ${cause.message}`, {
    cause,
  });
}

/**
 * Checks a configuration without keeping it: builds a throwaway adapter, runs its
 * health check and, when healthy, lists its models. An unreachable or refusing
 * upstream is a result (`ok: false`), not an error.
 * @throws GatewayError(invalid_request_error) when the configuration itself is incomplete
 */
export async function probeProvider(config: ProviderConfig, timeoutMs = probeTimeoutMs(config)): Promise<ProbeResult> {
  const adapter = createProviderAdapter(config);
  try {
    const health = await adapter.health(callContext(timeoutMs));
    if (!health.ok)
      return { ok: false, latencyMs: health.latencyMs, message: health.message, models: [], modelCount: null };
    try {
      const models = await adapter.listModels(callContext(timeoutMs));
      return {
        ok: true,
        latencyMs: health.latencyMs,
        models: models.slice(0, SAMPLE_SIZE).map((m) => m.id),
        modelCount: models.length,
      };
    } catch (error) {
      const message = `healthy, but listing its models failed: ${(error as Error).message}`;
      return { ok: true, latencyMs: health.latencyMs, message, models: [], modelCount: null };
    }
  } finally {
    await adapter.close().catch(() => undefined);
  }
}

/**
 * Asks the upstream of `config` for its models now (throwaway adapter).
 * @throws GatewayError 502 `upstream_error` / 504 `upstream_timeout` naming the provider
 */
export async function discoverModels(config: ProviderConfig, timeoutMs = probeTimeoutMs(config)): Promise<ModelInfo[]> {
  const adapter = createProviderAdapter(config);
  try {
    return await adapter.listModels(callContext(timeoutMs));
  } catch (error) {
    throw discoveryError(config.name, error, timeoutMs);
  } finally {
    await adapter.close().catch(() => undefined);
  }
}
