import type { Agent } from 'undici';
import { connectionError, fromUpstreamHttpError, type ErrorContext } from '../errors';
import type { ModelInfo } from '../provider.interface';
import { MAX_MODEL_LIST_BYTES, readBounded } from '../shared/http';
import { parseOllamaTags } from './openai.models';

/** The slice of Ollama's native API the adapter needs (`/api/tags`, `/api/version`). */

/** One `/api/tags` entry as Ollama writes it; read defensively (see `parseOllamaTags`). */
interface OllamaTag {
  modified_at?: unknown;
  details?: { family?: unknown; parameter_size?: unknown; quantization_level?: unknown };
}

export interface OllamaRequest {
  host: string;
  dispatcher: Agent;
  signal: AbortSignal;
  headers?: Record<string, string>;
  errors: ErrorContext;
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(raw)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

async function getJson(path: string, req: OllamaRequest): Promise<unknown> {
  let response;
  try {
    response = await req.dispatcher.request({
      origin: new URL(req.host).origin,
      path: new URL(req.host).pathname.replace(/\/$/, '') + path,
      method: 'GET',
      headers: { accept: 'application/json', ...req.headers },
      signal: req.signal,
    });
  } catch (err) {
    if (req.signal.aborted) throw err;
    throw connectionError(req.errors, err);
  }
  // Never more than a model list: an answer past it fails (and its connection is closed) before it fills memory.
  const text = await readBounded(response.body, MAX_MODEL_LIST_BYTES, `the answer of ${path}`);
  if (response.statusCode >= 400) {
    throw fromUpstreamHttpError(
      { status: response.statusCode, headers: toHeaders(response.headers), body: text, cause: text },
      req.errors,
    );
  }
  return JSON.parse(text) as unknown;
}

function describe(d: OllamaTag['details']): string | undefined {
  const parts = [d?.family, d?.parameter_size, d?.quantization_level].filter(
    (p): p is string => typeof p === 'string' && p !== '',
  );
  return parts.length ? parts.join(' ') : undefined;
}

/** Installed models, from `GET {host}/api/tags` (an answer that is no model list is a bad response). */
export async function listOllamaModels(req: OllamaRequest): Promise<ModelInfo[]> {
  const tags = parseOllamaTags(await getJson('/api/tags', req), req.errors.provider);
  return tags.map(({ id, tag }) => {
    const { modified_at: modifiedAt, details } = tag as OllamaTag;
    const modified = typeof modifiedAt === 'string' ? Date.parse(modifiedAt) : NaN;
    return {
      id,
      ownedBy: 'ollama',
      created: Number.isNaN(modified) ? undefined : Math.floor(modified / 1000),
      description: describe(typeof details === 'object' && details !== null ? details : undefined),
    };
  });
}

/** The server version, from `GET {host}/api/version`. */
export async function ollamaVersion(req: OllamaRequest): Promise<string> {
  const body = (await getJson('/api/version', req)) as { version?: unknown };
  return typeof body.version === 'string' ? body.version : 'unknown';
}
