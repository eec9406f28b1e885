import type { IncomingMessage, ServerResponse } from 'node:http';
import { Global, Injectable, Module } from '@nestjs/common';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { GatewayError, nestsDeeperThan } from '@app/contracts';
import { validationError } from './validation';

/** A request on the hot path: the request id is already assigned (and echoed). */
export type HotRequest = IncomingMessage & { id: string };
export type HotHandler = (req: HotRequest, res: ServerResponse) => void;

/**
 * Routes served straight from Node's `request` event, ahead of Express and
 * Nest's router, guards, pipes and interceptors: the gateway's generation
 * endpoints, where that stack cost more CPU than everything else a request does.
 * Each handler runs the same steps itself (body, auth, validation, the
 * controller's method, the error envelope); `createHttpApp` keeps in-flight
 * counting and request logging for them. The same routes stay registered as
 * Nest controllers, documented in OpenAPI, and serve what the hot path leaves
 * to the full stack: browser calls (an `Origin` header, for CORS), compressed
 * or multipart bodies, and any path spelling other than the exact one.
 */
@Injectable()
export class HotRoutes {
  private readonly routes = new Map<string, HotHandler>();

  add(method: string, path: string, handler: HotHandler): void {
    const key = `${method} ${path}`;
    if (this.routes.has(key)) throw new Error(`Hot route ${key} registered twice`);
    this.routes.set(key, handler);
  }

  /** The handler for `req`, or undefined when the full stack must serve it. */
  match(req: IncomingMessage): HotHandler | undefined {
    const headers = req.headers;
    if (headers.origin !== undefined) return undefined;
    const encoding = headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return undefined;
    if (headers['content-type']?.startsWith('multipart/')) return undefined;
    const url = req.url ?? '';
    const query = url.indexOf('?');
    return this.routes.get(`${req.method} ${query < 0 ? url : url.slice(0, query)}`);
  }
}

/** Provides the app's {@link HotRoutes} table to every module. */
@Global()
@Module({ providers: [HotRoutes], exports: [HotRoutes] })
export class HotRoutesModule {}

/**
 * How deep a request body may nest objects and arrays. Bodies are walked and
 * serialised recursively (validation, token estimates, the upstream call), which
 * a few thousand levels would take past the stack; JSON Schemas in a body (tools,
 * response formats) are held to 128 levels of their own.
 */
export const MAX_BODY_DEPTH = 256;

/** The 400 for a body nested deeper than {@link MAX_BODY_DEPTH}, or `undefined`. */
export function bodyDepthError(body: unknown): GatewayError | undefined {
  if (!nestsDeeperThan(body, MAX_BODY_DEPTH)) return undefined;
  return new GatewayError(
    'invalid_request_error',
    `The request body nests objects and arrays more than ${MAX_BODY_DEPTH} levels deep.`,
  );
}

// eslint-disable-next-line no-control-regex
const NUL = /\u0000/;

/**
 * Where a body holds text PostgreSQL cannot store (NUL, or an unpaired
 * surrogate, which is no character: a JSON column refuses it, a text column
 * stores U+FFFD in its place), as a param (`allowedModels[0]`, `name`), or
 * `undefined`. Keys count as text too (they are stored in JSON columns): a bad
 * key is named by the object holding it.
 */
function unstorableTextAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return NUL.test(value) || !value.isWellFormed() ? path || 'body' : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = unstorableTextAt(value[i], `${path}[${i}]`);
      if (at !== undefined) return at;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (NUL.test(key) || !key.isWellFormed()) return path || 'body';
    const at = unstorableTextAt(item, path ? `${path}.${key}` : key);
    if (at !== undefined) return at;
  }
  return undefined;
}

/**
 * The 400 for a body holding text PostgreSQL cannot store (see
 * {@link unstorableTextAt}), naming the field; `undefined` when it holds none.
 * For bodies that are stored (the admin API), checked after {@link bodyDepthError}.
 */
export function unstorableTextError(body: unknown): GatewayError | undefined {
  const param = unstorableTextAt(body, '');
  if (param === undefined) return undefined;
  return new GatewayError(
    'invalid_request_error',
    `${param} holds text that cannot be stored: a NUL character (\\u0000) or an unpaired surrogate (\\ud800-\\udfff alone).`,
    { param },
  );
}

export const tooLarge = (limit: number) =>
  new GatewayError('request_too_large', `The request body is larger than the limit of ${limit} bytes.`);

/**
 * Why a request's body is refused before a byte of it is read: declared over
 * `limit` bytes (413), or in a charset other than UTF-8 (415). The error response
 * then closes the connection ({@link sendError}) instead of reading what the
 * client may still send (up to the 2 GB it may have declared).
 */
export function bodyRefusedUnread(req: IncomingMessage, limit: number): GatewayError | undefined {
  if (Number(req.headers['content-length']) > limit) return tooLarge(limit);
  const charset = /;\s*charset=([^;\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
  // `utf-8` as written: the full stack's parser refuses `utf8`, and both paths answer alike.
  if (charset && !/^"?utf-8"?$/i.test(charset)) {
    return new GatewayError('unsupported_media_type', `The request body must be UTF-8, not ${charset.slice(0, 40)}.`);
  }
  return undefined;
}

/**
 * The request body as JSON, as the full stack's `express.json({ strict: false })`
 * reads it: an empty body is `{}`, over `limit` bytes is 413, unparsable is 400
 * `invalid_json`, a charset other than UTF-8 is 415 ({@link bodyRefusedUnread});
 * a byte order mark before the JSON is skipped.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const refused = bodyRefusedUnread(req, limit);
  if (refused) return Promise.reject(refused);
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (part: Buffer) => {
      size += part.length;
      if (size <= limit) {
        parts.push(part);
        return;
      }
      // Answer 413 now; the response closes the connection, so the rest is not read.
      req.off('data', onData);
      req.on('data', discard);
      req.off('end', onEnd);
      parts.length = 0;
      reject(tooLarge(limit));
    };
    const onEnd = () => {
      req.off('error', onError);
      if (size === 0) return resolve({});
      const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
      const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
      const text = bytes.toString('utf8', bom);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return reject(new GatewayError('invalid_json', 'The request body is not valid JSON.'));
      }
      const tooDeep = bodyDepthError(body);
      if (tooDeep) reject(tooDeep);
      else resolve(body);
    };
    const onError = (error: Error) =>
      reject(new GatewayError('invalid_request_error', 'The request body could not be read.', { cause: error }));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
  });
}

function discard(): void {}

/**
 * Validates `body` against a Standard Schema (zod), as the global validation pipe does:
 * 400 naming the first bad field. Answers at once when the schema validates
 * synchronously (zod's do), with a promise only for an asynchronous one.
 */
export function validateBody<T>(schema: StandardSchemaV1<unknown, T>, body: unknown): T | Promise<T> {
  const checked = schema['~standard'].validate(body);
  return checked instanceof Promise ? checked.then(validated) : validated(checked);
}

function validated<T>(result: StandardSchemaV1.Result<T>): T {
  if (result.issues) throw validationError(result.issues);
  return result.value;
}
