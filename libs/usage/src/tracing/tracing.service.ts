import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Attributes, type Span, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { APP_CONFIG, type AppConfig, platformVersion } from '@app/config';
import { acquireOtel, releaseOtel } from './otel-sdk';

const TRACER = 'llm-gateway';

/**
 * OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: a
 * server span per request (continuing an incoming `traceparent`), with the
 * provider calls made while serving it as children. When off, every method is
 * a cheap no-op.
 */
@Injectable()
export class TracingService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Tracing');
  private started = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get enabled(): boolean {
    return this.started;
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.otlpEndpoint) return;
    this.started =
      (await acquireOtel(this.config.otlpEndpoint, 'llm-gateway', platformVersion(), this.logger)) !== undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.config.otlpEndpoint) return;
    this.started = false;
    await releaseOtel();
  }

  /**
   * Runs `fn` (the rest of the request's handling) inside a new server span;
   * the returned function ends the span with the response status.
   */
  inServerSpan<T>(
    name: string,
    headers: Record<string, unknown>,
    attributes: Attributes,
    fn: (end: (status: number, route?: string) => void) => T,
  ): T {
    if (!this.started) return fn(() => undefined);
    const parent = propagation.extract(context.active(), headers);
    const span = trace.getTracer(TRACER).startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    let ended = false;
    const end = (status: number, route?: string) => {
      if (ended) return;
      ended = true;
      if (route) {
        span.setAttribute('http.route', route);
        span.updateName(`${String(attributes['http.request.method'])} ${route}`);
      }
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    return context.with(trace.setSpan(parent, span), () => fn(end));
  }
}

/**
 * Runs `fn` in a child span of the current request (a no-op span when tracing
 * is off), for pipeline steps worth seeing in a trace (routing, a tool call).
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer(TRACER).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
