import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}
const SERVER = 2;
const CLIENT = 3;

/** A minimal OTLP/HTTP collector: accepts JSON trace exports on /v1/traces and keeps the spans. */
class OtlpReceiver {
  readonly spans: OtlpSpan[] = [];
  readonly paths: string[] = [];
  private readonly server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      this.paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const payload = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
      for (const rs of payload.resourceSpans) for (const ss of rs.scopeSpans) this.spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A request over node:http; resolves with the status once the body is read. */
function post(url: string, headers: Record<string, string>, method = 'POST'): Promise<number> {
  const body = JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? body : undefined);
  });
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

describe('OpenTelemetry tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  const receiver = new OtlpReceiver();
  const upstream = new FakeOpenAIServer({ apiKey: 'sk-upstream' });
  let platform: TestPlatform;
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');

  beforeAll(async () => {
    const [endpoint, baseUrl] = await Promise.all([receiver.start(), upstream.start()]);
    platform = await startPlatform({
      apps: ['gateway'],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OPENAI_API_KEY: 'sk-upstream', OPENAI_BASE_URL: baseUrl },
    });
    // node:http, not fetch: this process's fetch is instrumented too and would start its own trace.
    const status = await post(`${platform.gatewayUrl}/v1/chat/completions`, {
      authorization: `Bearer ${TEST_MASTER_KEY}`,
      traceparent: `00-${traceId}-${callerSpanId}-01`,
    });
    expect(status).toBe(200);
    await post(`${platform.gatewayUrl}/health`, {}, 'GET');
    // Shutdown flushes the spans still buffered.
    await platform.close();
  });
  afterAll(async () => {
    await receiver.close();
    await upstream.close();
  });

  it('exports OTLP/HTTP JSON to <endpoint>/v1/traces', () => {
    expect(receiver.paths.length).toBeGreaterThan(0);
    expect(receiver.paths[0]).toBe('POST /v1/traces application/json');
  });

  it('makes a server span per request, continuing the caller trace, named after the route', () => {
    const server = receiver.spans.find((s) => s.kind === SERVER && s.traceId === traceId);
    expect(server).toBeDefined();
    expect(server!).toMatchObject({ name: 'POST /v1/chat/completions', parentSpanId: callerSpanId });
    expect(attribute(server!, 'http.response.status_code')).toBe(200);
    expect(attribute(server!, 'http.route')).toBe('/v1/chat/completions');
    const health = receiver.spans.find((s) => s.kind === SERVER && s.name === 'GET /health');
    expect(health?.traceId).not.toBe(traceId);
  });

  it('records the provider call as a child span of the request', () => {
    const server = receiver.spans.find((s) => s.kind === SERVER && s.traceId === traceId)!;
    const byId = new Map(receiver.spans.map((s) => [s.spanId, s]));
    const upstreamCalls = receiver.spans.filter((s) => s.kind === CLIENT && s.traceId === traceId);
    expect(upstreamCalls.length).toBeGreaterThanOrEqual(1);
    const call = upstreamCalls.find((s) => String(attribute(s, 'url.full')).includes('/chat/completions'));
    expect(call).toBeDefined();
    // The client span descends from the request's server span.
    let ancestor = call!.parentSpanId ? byId.get(call!.parentSpanId) : undefined;
    while (ancestor && ancestor.spanId !== server.spanId)
      ancestor = ancestor.parentSpanId ? byId.get(ancestor.parentSpanId) : undefined;
    expect(ancestor?.spanId).toBe(server.spanId);
    expect(attribute(call!, 'http.response.status_code')).toBe(200);
    expect(attribute(call!, 'url.full')).toBe(`${upstream.baseURL}/chat/completions`);
  });
});
