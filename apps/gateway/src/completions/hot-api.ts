import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ApiKeyAuthService, type AuthenticatedRequest, presentedApiKey } from '@app/auth';
import { APP_CONFIG, type AppConfig } from '@app/config';
import type { GatewayError } from '@app/contracts';
import { type HotRequest, HotRoutes, failureOf, readJsonBody, sendError, validateBody } from '@app/server';
import { GatewayMetrics, TracingService } from '@app/usage';

export type HotApiRequest = HotRequest & AuthenticatedRequest;
export type HotApiHandler<T> = (body: T, req: HotApiRequest, res: ServerResponse) => Promise<void>;

/**
 * The gateway's generation endpoints on the hot path ({@link HotRoutes}): the
 * same steps, in the same order, as the Nest route they shadow — HTTP metrics
 * and the tracing span (the modules' middlewares), the JSON body, the API key
 * (`ApiKeyGuard`), the zod schema (the validation pipe), the controller's
 * method, and errors in the envelope (the exception filter).
 */
@Injectable()
export class HotApi {
  constructor(
    private readonly routes: HotRoutes,
    private readonly auth: ApiKeyAuthService,
    private readonly metrics: GatewayMetrics,
    private readonly tracing: TracingService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Serves `POST path`: `handle` gets the body `schema` validated, typed as the
   * controller's `@Body` is; `errorBody` shapes error responses (the OpenAI
   * envelope by default).
   */
  post<T>(
    path: string,
    schema: StandardSchemaV1,
    handle: HotApiHandler<T>,
    errorBody?: (error: GatewayError, req: IncomingMessage) => object,
  ): void {
    this.routes.add('POST', path, (req, res) => {
      res.once('finish', () => this.metrics.observeHttp('POST', path, res.statusCode));
      if (!this.tracing.enabled) return void this.serve(req, res, schema, handle, errorBody);
      const attributes = { 'http.request.method': 'POST', 'url.path': path, 'gateway.request_id': req.id };
      this.tracing.inServerSpan('POST', req.headers, attributes, (end) => {
        const finish = () => end(res.statusCode, path);
        res.once('finish', finish);
        res.once('close', finish);
        void this.serve(req, res, schema, handle, errorBody);
      });
    });
  }

  private async serve<T>(
    req: HotApiRequest,
    res: ServerResponse,
    schema: StandardSchemaV1,
    handle: HotApiHandler<T>,
    errorBody: ((error: GatewayError, req: IncomingMessage) => object) | undefined,
  ): Promise<void> {
    try {
      const raw = await readJsonBody(req, this.config.maxBodyBytes);
      // A cached key and a synchronous schema answer at once: no promise, no turn of the event loop.
      const principal = this.auth.authenticateNow(presentedApiKey(req.headers));
      req.principal = principal instanceof Promise ? await principal : principal;
      const body = validateBody(schema as StandardSchemaV1<unknown, T>, raw);
      await handle(body instanceof Promise ? await body : body, req, res);
    } catch (exception) {
      const error = failureOf(exception, req);
      sendError(res, error, errorBody?.(error, req));
    }
  }
}
