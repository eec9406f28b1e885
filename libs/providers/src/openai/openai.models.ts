import { badResponseError } from '../errors';
import type { ModelInfo } from '../provider.interface';

type Entry = Record<string, unknown>;

/**
 * Pure: the models of an OpenAI-shaped `GET /models` answer (`{data: [{id, created,
 * owned_by}]}`). An answer that is not such a list (a proxy's text page, `null`, a
 * bare array) is a bad response, so the catalog keeps the last good list instead of
 * replacing it with nothing. Entries without a usable id are left out rather than
 * listed as `provider/undefined`, and `created` / `owned_by` of the wrong type are
 * not passed on to clients that parse `/v1/models` strictly.
 * @param stripPrefix removed from the start of each id (Gemini lists `models/<id>`)
 */
export function parseOpenAIModelList(body: unknown, provider: string, stripPrefix?: string): ModelInfo[] {
  const data = isEntry(body) ? body.data : undefined;
  if (!Array.isArray(data)) throw badResponseError(provider, "the model list is not a JSON object with a 'data' array");
  const models: ModelInfo[] = [];
  for (const entry of data) {
    if (!isEntry(entry)) continue;
    const raw = modelId(entry.id);
    const id = raw && stripPrefix && raw.startsWith(stripPrefix) ? raw.slice(stripPrefix.length) : raw;
    if (!id) continue;
    models.push({ id, ownedBy: text(entry.owned_by) ?? provider, created: unixSeconds(entry.created) });
  }
  return models;
}

/** Pure: the installed models of an Ollama `GET /api/tags` answer (`{models: [{name, model, ...}]}`). */
export function parseOllamaTags(body: unknown, provider: string): Array<{ id: string; tag: Entry }> {
  const list = isEntry(body) ? body.models : undefined;
  // Ollama writes a server without models as `[]`; `null` is the same to a Go client.
  if (list === null) return [];
  if (!Array.isArray(list))
    throw badResponseError(provider, "the model list is not a JSON object with a 'models' array");
  const tags: Array<{ id: string; tag: Entry }> = [];
  for (const tag of list) {
    if (!isEntry(tag)) continue;
    const id = modelId(tag.name) ?? modelId(tag.model);
    if (id) tags.push({ id, tag });
  }
  return tags;
}

function isEntry(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A model id is non-empty text without surrounding whitespace (some servers number theirs: kept as text). */
function modelId(value: unknown): string | undefined {
  const id = typeof value === 'number' && Number.isFinite(value) ? String(value) : text(value);
  return id && id === id.trim() ? id : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function unixSeconds(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
