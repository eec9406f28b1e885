import type { IncomingHttpHeaders } from 'node:http';
import type { Agent } from 'undici';
import { GatewayError, isObject, parseJson, parseJsonEvent, withFields } from '@app/contracts';
import {
  badResponseError,
  connectionError,
  cutShortError,
  fromUpstreamHttpError,
  normalizeProviderError,
  type ErrorContext,
} from '../errors';
import type { CallContext, ProviderConfig } from '../provider.interface';
import { type CallScope, openScope } from '../shared/call-scope';
import { describeUpstreamBody, isNetworkError, isRequestError, statusOfStreamError } from '../shared/error-details';
import {
  NoResponseError,
  postForStream,
  postForText,
  type UpstreamHead,
  type UpstreamPost,
  type UpstreamStream,
  type UpstreamText,
} from '../shared/exchange';
import { MAX_ERROR_BODY_CHARS, UpstreamTooLargeError } from '../shared/http';
import { SseDecoder } from '../shared/sse';
import { WHOLE_ANSWER_GRACE_MS } from '../shared/stream-activity';
import { DEFAULT_AZURE_API_VERSION, type OpenAIEndpoint } from './openai-compatible.config';
import type { OpenAIChunkNormalizer } from './openai.stream';

/** Paths Azure serves under `/deployments/{deployment}` (as the SDK's AzureOpenAI does). */
const AZURE_DEPLOYMENT_PATHS = new Set(['/chat/completions', '/completions', '/embeddings']);

/**
 * The hot-path HTTP of the OpenAI-compatible adapter, straight on undici's
 * dispatcher (see `shared/exchange.ts`) and the provider's keep-alive pool: the same URLs, auth headers
 * and error semantics as the `openai` SDK (see `OpenAICompatibleAdapter`), at a
 * third of its CPU cost per call.
 */
export class OpenAIHttp {
  private readonly origin: string;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly query: string;
  /** Azure addressed by deployment (`/deployments/{model}/…?api-version=`), not its v1 API. */
  private readonly deployments: boolean;

  constructor(
    private readonly config: ProviderConfig,
    private readonly endpoint: OpenAIEndpoint,
    private readonly dispatcher: Agent,
    private readonly errors: (scope: CallScope) => ErrorContext,
  ) {
    const url = new URL(endpoint.baseURL);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    const azure = endpoint.flavor === 'azure-openai';
    // Azure's v1 API has OpenAI's paths and no api-version.
    this.deployments = azure && !endpoint.azureV1;
    this.query = this.deployments
      ? `?api-version=${encodeURIComponent(config.options?.apiVersion ?? DEFAULT_AZURE_API_VERSION)}`
      : '';
    const auth: Record<string, string> = {};
    if (config.apiKey) {
      if (azure) auth['api-key'] = config.apiKey;
      else auth['authorization'] = `Bearer ${config.apiKey}`;
    }
    // Configured headers win over ours, compared case-insensitively (as in the SDK).
    this.headers = {
      accept: 'application/json',
      // The body is read as it comes, not decoded: without this header a server may compress it.
      'accept-encoding': 'identity',
      'content-type': 'application/json',
      'user-agent': 'llm-gateway',
      ...auth,
    };
    for (const [name, value] of Object.entries(config.options?.headers ?? {})) this.headers[name.toLowerCase()] = value;
  }

  /**
   * POSTs JSON and returns the 2xx answer, which must be a JSON object with the array
   * `arrayKey` (an HTML page or a proxy's text is a bad response), in a call scope of
   * its own, as {@link postSse}: the timeout bounds the call, the client's abort ends
   * it, and every failure is normalised. (One async function from the exchange to
   * the router: each layer of them costs a promise and a turn per call.)
   */
  async postJson(path: string, body: { model: string }, call: CallContext, arrayKey: string): Promise<unknown> {
    const scope = openScope(call, this.config.timeoutMs);
    try {
      // Built before the call: a body that cannot be serialised is not the provider's failure.
      const post = this.post(path, body, scope);
      let response: UpstreamText;
      try {
        response = await postForText(this.dispatcher, post, scope);
      } catch (err) {
        throw this.failure(err, scope);
      }
      if (response.status < 200 || response.status >= 300) throw this.httpError(response, response.text, scope);
      const type = header(response.headers, 'content-type')?.split(';')[0].trim().toLowerCase();
      const value =
        type?.includes('application/json') || type?.endsWith('+json') ? parseJson(response.text) : response.text;
      if (hasArrayOfObjects(value, arrayKey)) return value;
      throw badResponseError(this.config.name, `expected a JSON object with '${arrayKey}', a list of objects`);
    } catch (err) {
      throw normalizeProviderError(err, this.errors(scope));
    } finally {
      scope.dispose();
    }
  }

  /**
   * POSTs and yields the JSON of each server-sent event as it arrives, until `[DONE]`
   * (read on to the end, as the SDK does), in a call scope of its own: the timeout
   * bounds the upstream's silence (any bytes count, comments too), the client's abort
   * ends the call, and every failure is normalised. An event carrying `error` ends the stream with that error;
   * a body that is not JSON, or one without any event, is a bad response. Events
   * pass through `normalizer` when given (see `openai.stream.ts`). (One generator
   * from the socket to the relay: each layer of async iteration costs a promise
   * hop per event.)
   */
  async *postSse(
    path: string,
    body: { model: string },
    call: CallContext,
    normalizer?: OpenAIChunkNormalizer,
  ): AsyncGenerator<unknown> {
    const scope = openScope(call, this.config.timeoutMs);
    let received = 0;
    let responded = false;
    try {
      const response = await this.openStream(path, body, scope);
      responded = true;
      const decoder = new SseDecoder();
      let done = false;
      try {
        for await (const text of response.chunks()) {
          // Any bytes are activity: a server that sends comments (`: keep-alive`,
          // `: OPENROUTER PROCESSING`) while its model thinks is alive, though nothing is relayed.
          scope.touch();
          for (const message of decoder.push(text)) {
            if (done) continue;
            if (message.data.startsWith('[DONE]')) {
              done = true;
              // The answer is whole: a server that then keeps the response open is not waited for.
              scope.complete(WHOLE_ANSWER_GRACE_MS);
              continue;
            }
            const data = this.event(message.data, response, scope);
            received++;
            const out = normalizer ? normalizer.push(data) : data;
            if (out !== undefined) yield out;
          }
        }
      } catch (err) {
        if (!scope.endedWhole) throw err;
      }
      // An aborted stream must never look like a finished answer (one whole before it was left is one).
      if (scope.aborted && !scope.endedWhole) throw scope.reason;
      const cut = decoder.end();
      if (!done && cut !== undefined && !cut.startsWith('[DONE]')) {
        // A whole last event without its blank line is taken; half of one is a truncated answer, not an answer.
        let data: unknown;
        try {
          data = this.event(cut, response, scope);
        } catch (err) {
          if (!(err instanceof SyntaxError)) throw err;
          throw badResponseError(this.config.name, 'the stream ended in the middle of an event');
        }
        received++;
        const out = normalizer ? normalizer.push(data) : data;
        if (out !== undefined) yield out;
      }
      if (received === 0) throw badResponseError(this.config.name, 'the stream ended without any event');
      const tail = normalizer?.end();
      if (tail !== undefined) yield tail;
    } catch (err) {
      // The stream had begun: its connection failing cuts the answer short (a 502, not "no provider available").
      const cut = responded && !scope.aborted && isNetworkError(err);
      throw normalizeProviderError(cut ? cutShortError(this.errors(scope), err) : err, this.errors(scope));
    } finally {
      scope.dispose();
    }
  }

  /** One event's JSON; an event carrying `error` is thrown as the upstream's error. */
  private event(text: string, response: UpstreamStream, scope: CallScope): unknown {
    // Its text is kept: an event usually goes to the client unchanged, and is then not serialised again.
    const data = parseJsonEvent(text);
    const error = typeof data === 'object' && data !== null ? (data as { error?: unknown }).error : undefined;
    if (error) throw streamError(error, response.headers, this.errors(scope));
    return data;
  }

  /** The stream's response once its head arrived; a non-2xx answer is thrown as the upstream's error. */
  private async openStream(path: string, body: { model: string }, scope: CallScope): Promise<UpstreamStream> {
    const post = this.post(path, body, scope);
    let response: UpstreamStream;
    try {
      response = await postForStream(this.dispatcher, post, scope);
    } catch (err) {
      throw this.failure(err, scope);
    }
    if (response.status >= 200 && response.status < 300) return response;
    let text = '';
    for await (const chunk of response.chunks()) if (text.length < MAX_ERROR_BODY_CHARS) text += chunk;
    throw this.httpError(response, text, scope);
  }

  private post(path: string, body: { model: string }, scope: CallScope): UpstreamPost {
    return {
      origin: this.origin,
      path: this.path(path, body.model),
      headers: withFields(this.headers, { 'x-request-id': scope.requestId, 'x-gateway-hops': scope.hops }),
      body: JSON.stringify(body),
    };
  }

  /**
   * No (whole) response: an abort, or an answer past its bound, is itself; no
   * response at all a connection error; an answer cut short the provider's failure.
   */
  private failure(err: unknown, scope: CallScope): unknown {
    if (scope.aborted || err instanceof UpstreamTooLargeError) return err;
    if (err instanceof NoResponseError) {
      return isRequestError(err.cause) ? err.cause : connectionError(this.errors(scope), err.cause);
    }
    return cutShortError(this.errors(scope), err);
  }

  private httpError(head: UpstreamHead, text: string, scope: CallScope): Error {
    return fromUpstreamHttpError(
      {
        status: head.status,
        headers: toHeaders(head.headers),
        rawBody: text.slice(0, MAX_ERROR_BODY_CHARS),
        cause: new Error(`upstream answered HTTP ${head.status}`),
      },
      this.errors(scope),
    );
  }

  private path(path: string, model: string): string {
    const deployment = this.deployments && AZURE_DEPLOYMENT_PATHS.has(path) ? `/deployments/${pathSegment(model)}` : '';
    return `${this.basePath}${deployment}${path}${this.query}`;
  }
}

/**
 * A client's model name as one segment of the upstream's path (Azure's deployment):
 * a `/`, `?`, `#` or space in it must never reach another path or query of the
 * upstream, with the provider's key attached; nor may a name of dots alone, which
 * URL parsers read as a step up the path, encoded or not.
 */
function pathSegment(name: string): string {
  if (name === '.' || name === '..') {
    throw new GatewayError('invalid_request_error', `"${name}" is not a deployment name.`, { param: 'model' });
  }
  return encodeURIComponent(name);
}

/** An `{"error": ...}` event inside a 200 stream: its status comes from the error's type. */
function streamError(error: unknown, headers: IncomingHttpHeaders, ctx: ErrorContext): Error {
  const status = statusOfStreamError(describeUpstreamBody(undefined, error));
  return fromUpstreamHttpError({ status, headers: toHeaders(headers), body: error, cause: error }, ctx);
}

function hasArrayOfObjects(value: unknown, key: string): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const list = (value as Record<string, unknown>)[key];
  return Array.isArray(list) && list.every(isObject);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(raw)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}
