import type { Logger } from '@nestjs/common';

/** A started tracer provider; `shutdown` flushes what is still buffered. */
export interface OtelSdk {
  shutdown(): Promise<void>;
}

let shared: { sdk: Promise<OtelSdk | undefined>; users: number } | undefined;

/** `OTEL_EXPORTER_OTLP_ENDPOINT` is the collector's base URL, as in the OpenTelemetry spec. */
export function tracesUrl(endpoint: string): string {
  return endpoint.replace(/\/+$/, '').endsWith('/v1/traces') ? endpoint : `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Starts OpenTelemetry once per process (apps sharing a process share it):
 * a tracer provider exporting OTLP/HTTP JSON to `endpoint`, W3C trace context,
 * async-hooks context propagation, and the undici instrumentation so every
 * upstream `fetch` (the provider SDKs use it) becomes a child span of the
 * request that made it. The packages are loaded only here, so a gateway
 * without an endpoint never loads them.
 */
export function acquireOtel(
  endpoint: string,
  serviceName: string,
  version: string,
  logger: Logger,
): Promise<OtelSdk | undefined> {
  if (!shared) {
    shared = { users: 0, sdk: startOtel(endpoint, serviceName, version, logger) };
  }
  shared.users++;
  return shared.sdk;
}

/** Drops one user; the last one flushes and stops the provider. */
export async function releaseOtel(): Promise<void> {
  if (!shared) return;
  shared.users--;
  if (shared.users > 0) return;
  const { sdk } = shared;
  shared = undefined;
  await (await sdk)?.shutdown();
}

async function startOtel(
  endpoint: string,
  serviceName: string,
  version: string,
  logger: Logger,
): Promise<OtelSdk | undefined> {
  try {
    const [
      { NodeTracerProvider, BatchSpanProcessor },
      { OTLPTraceExporter },
      { resourceFromAttributes },
      { UndiciInstrumentation },
    ] = await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/instrumentation-undici'),
    ]);
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': serviceName, 'service.version': version }),
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(endpoint) }), { scheduledDelayMillis: 1_000 }),
      ],
    });
    provider.register();
    const undici = new UndiciInstrumentation({
      // Some upstreams take credentials in the query string: traces keep only origin and path.
      requestHook: (span, request) => {
        const path = request.path.split('?')[0];
        span.setAttribute('url.full', `${request.origin}${path}`);
        span.setAttribute('url.query', '');
      },
    });
    undici.setTracerProvider(provider);
    undici.enable();
    logger.log(`OpenTelemetry tracing to ${tracesUrl(endpoint)}`);
    return {
      shutdown: async () => {
        undici.disable();
        await provider.shutdown().catch((error: Error) => logger.warn(`OpenTelemetry flush failed: ${error.message}`));
      },
    };
  } catch (error) {
    logger.error(`OpenTelemetry could not start (tracing off): ${(error as Error).message}`);
    return undefined;
  }
}
