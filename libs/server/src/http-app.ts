import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type DynamicModule, Logger as NestLogger, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '@app/config';
import type { GatewayError } from '@app/contracts';
import {
  HotRoutes,
  type HotRequest,
  bodyDepthError,
  bodyRefusedUnread,
  tooLarge,
  unstorableTextError,
} from './hot-routes';
import { type ErrorBody, HttpExceptionFilter, sendError, toGatewayError } from './http-exception.filter';
import { InFlightRequests } from './in-flight';
import { RequestLogging } from './request-logging';
import { sendJson } from './responses';
import { createValidationPipe } from './validation';

export interface HttpAppOptions {
  name: string;
  title: string;
  description: string;
  version: string;
  /** Extra response headers browsers may read (rate-limit headers, provider names...). */
  exposedHeaders?: string[];
  /** Serve the app's {@link HotRoutes} (its module imports `HotRoutesModule`) ahead of Express. */
  hotRoutes?: boolean;
  /**
   * The body of an error answered before any controller (the body parser's 400, 413
   * and 415) or by the global filter, for routes whose API has an error shape of its
   * own; `undefined` (and by default) the OpenAI envelope.
   */
  errorBody?: ErrorBody;
  /** Bodies are stored (the admin API): text PostgreSQL cannot store is a 400 naming its field. */
  storesBodies?: boolean;
}

/** A configured, not yet listening app, with what graceful shutdown needs. */
export interface HttpApp {
  name: string;
  app: NestExpressApplication;
  inFlight: InFlightRequests;
}

/**
 * Creates a Nest app with the platform's HTTP conventions: request ids, JSON
 * bodies up to MAX_BODY_BYTES, CORS, the error envelope, zod validation and
 * OpenAPI at /docs and /openapi.json.
 */
export async function createHttpApp(
  module: Type | DynamicModule,
  config: AppConfig,
  options: HttpAppOptions,
): Promise<HttpApp> {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);
  const inFlight = new InFlightRequests();
  const logging = app.get(RequestLogging);
  /**
   * What every request gets first, on the hot path or through Express: in-flight
   * counting, its id and log line. The hot routes' writers echo the id themselves.
   */
  const arrive = (req: IncomingMessage, res: ServerResponse, hot = false) => {
    inFlight.track(res);
    logging.begin(req, res, hot);
  };
  app.use((req: Request, res: Response, next: NextFunction) => {
    arrive(req, res);
    next();
  });
  // Before the body parser, so its errors (malformed JSON, 413) reach browsers with CORS headers too.
  app.enableCors({
    origin: config.corsOrigins,
    exposedHeaders: ['x-request-id', 'retry-after', ...(options.exposedHeaders ?? [])],
    maxAge: 600,
  });
  // A body declared too large, or not UTF-8, is refused before it is read (express.json would read it all first);
  // one sent without a length is answered 413 as soon as it passes the limit (express.json answers at its end).
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const refused = bodyRefusedUnread(req, config.maxBodyBytes);
    if (refused) return next(refused);
    if (req.headers['content-length'] === undefined) {
      answerWhenPastLimit(req, res, config.maxBodyBytes, (error) => options.errorBody?.(error, req));
    }
    next();
  });
  app.use(
    express.json({
      limit: config.maxBodyBytes,
      strict: false,
      type: (req) => req.method !== 'GET' && !String(req.headers['content-type'] ?? '').startsWith('multipart/'),
    }),
  );
  app.use((req: Request, _res: Response, next: NextFunction) =>
    next(bodyDepthError(req.body) ?? (options.storesBodies ? unstorableTextError(req.body) : undefined)),
  );
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!error) return next();
    const failure = toGatewayError(error, req);
    sendError(res, failure, options.errorBody?.(failure, req));
  });
  app.useGlobalFilters(new HttpExceptionFilter(options.errorBody));
  app.useGlobalPipes(createValidationPipe());
  setupSwagger(app, options);
  if (options.hotRoutes) serveHotRoutes(app, app.get(HotRoutes), arrive);
  answerBeforeRequests(app.getHttpServer(), config.maxBodyBytes);
  return { name: options.name, app, inFlight };
}

/**
 * Answers 413 (closing the connection: see `sendError`) once a body sent without a
 * length passes `limit` bytes, while the body parser still reads it; the parser's
 * own 413, at the body's end, then finds the answer sent.
 */
function answerWhenPastLimit(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
  errorBody: (error: GatewayError) => object | undefined,
): void {
  let size = 0;
  const count = (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) return;
    req.off('data', count);
    if (res.headersSent) return;
    const error = tooLarge(limit);
    sendError(res, error, errorBody(error));
  };
  req.on('data', count);
}

/** The envelope of an answer Node gives before a request reaches the app, by status. */
const refusal = (message: string, code: string) => ({
  error: { message, type: 'invalid_request_error', param: null, code },
});
const NODE_REFUSALS: Record<number, object> = {
  400: refusal('The request is not valid HTTP.', 'bad_request'),
  408: refusal('The request was not received in time.', 'request_timeout'),
  417: refusal('The only expectation this server meets is 100-continue.', 'expectation_failed'),
  431: refusal('The request headers are too large.', 'request_header_fields_too_large'),
};

/**
 * What Node answers itself, before a request reaches the app, in the error envelope:
 * a request it cannot parse (400, 431 for headers too large, 408 when it took too
 * long) instead of a bare status line; and `expect: 100-continue` is answered 413
 * at once for a body declared too large, not "100 Continue" followed by reading it.
 */
function answerBeforeRequests(server: Server, maxBodyBytes: number): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify(NODE_REFUSALS[status]);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  // An `expect` other than 100-continue: Node's bare 417, in the envelope.
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) =>
    sendJson(res, 417, NODE_REFUSALS[417], { connection: 'close' }),
  );
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (bodyRefusedUnread(req, maxBodyBytes) === undefined) res.writeContinue();
    server.emit('request', req, res);
  });
}

/**
 * Puts the app's {@link HotRoutes} in front of Express: Node's `request` event
 * goes to a hot route's handler when one matches, after `arrive` (in-flight
 * counting and request logging), and to Express otherwise.
 */
function serveHotRoutes(
  app: NestExpressApplication,
  hot: HotRoutes,
  arrive: (req: IncomingMessage, res: ServerResponse, hot: boolean) => void,
): void {
  const server = app.getHttpServer();
  const [express] = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeListener('request', express);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const handler = hot.match(req);
    if (!handler) return express(req, res);
    arrive(req, res, true);
    handler(req as HotRequest, res);
  });
}

function setupSwagger(app: NestExpressApplication, options: HttpAppOptions): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(options.title)
      .setDescription(options.description)
      .setVersion(options.version)
      .addBearerAuth()
      .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key' }, 'x-api-key')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
}

/** Starts listening; returns the bound URL (port 0 picks a free port). */
export async function listen(http: HttpApp, port: number, host: string): Promise<string> {
  await http.app.listen(port, host);
  const address = http.app.getHttpServer().address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return `http://${shownHost}:${address.port}`;
}

/** How long interrupted requests have to write their last answer before their connections are cut. */
const INTERRUPT_GRACE_MS = 1_000;

/**
 * Stops the apps the way a load balancer expects: stop accepting, let in-flight
 * requests finish within `timeoutMs`, then end those that can be interrupted
 * (generation requests: a 503, or a stream's final error event and `[DONE]`,
 * their upstream calls aborted and their usage recorded), cut what remains, and
 * run each app's shutdown hooks (usage flush, database release).
 */
export async function shutdownHttpApps(apps: HttpApp[], timeoutMs: number): Promise<void> {
  const servers = apps.map((a) => a.app.getHttpServer());
  const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
  for (const server of servers) server.closeIdleConnections();
  const idle = await Promise.all(apps.map((a) => a.inFlight.waitForIdle(timeoutMs)));
  if (idle.includes(false)) {
    const interrupted = apps.reduce((sum, a) => sum + a.inFlight.interrupt(), 0);
    new NestLogger('Shutdown').warn(
      `In-flight requests still running after ${timeoutMs} ms; ending them (${interrupted} with a 503 or a stream's final error event)`,
    );
    // Those interrupted answer at once (their upstream calls are aborted): a moment for that, then the rest are cut.
    await Promise.all(apps.map((a) => a.inFlight.waitForIdle(INTERRUPT_GRACE_MS)));
  }
  for (const server of servers) server.closeAllConnections();
  await Promise.all(closed);
  for (const { app } of apps) await app.close();
}

/**
 * Beyond three shutdown timeouts (in-flight requests, then the last usage rows
 * and the keys' last use) and this (closing the database and Redis), a shutdown is stuck.
 */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Runs {@link shutdownHttpApps} once on SIGTERM or SIGINT, then exits; a second
 * signal exits at once, and so does a shutdown still running long after its
 * bounded steps should have ended (a dependency that never answers).
 */
export function installSignalHandlers(apps: HttpApp[], timeoutMs: number): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    const limitMs = 3 * timeoutMs + SHUTDOWN_GRACE_MS;
    setTimeout(() => {
      new NestLogger('Shutdown').error(`Shutdown still running after ${limitMs} ms; exiting`);
      process.exit(1);
    }, limitMs).unref();
    new NestLogger('Shutdown').log(`${signal} received: finishing in-flight requests`);
    shutdownHttpApps(apps, timeoutMs).then(
      () => process.exit(0),
      (error: unknown) => {
        new NestLogger('Shutdown').error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
