import type { EmbeddingRequest, EmbeddingResponse } from '@app/contracts';
import { badResponseError, ProviderError } from '../errors';

const FLOAT_BYTES = Float32Array.BYTES_PER_ELEMENT;

/**
 * Pure: an embeddings answer in the encoding the client asked for. `base64` (what
 * the `openai` SDKs ask for by default, decoding the answer as little-endian
 * float32) is not honoured by every OpenAI-compatible server: some Ollama versions,
 * Gemini's OpenAI layer and many local servers answer with float arrays whatever
 * is asked, and the SDK then decodes the JSON numbers as base64 into a handful of
 * zeros. So vectors come back as float arrays when the client asked for floats (or
 * for nothing, OpenAI's default) and as base64 float32 when it asked for base64,
 * whatever the upstream sent. An item without a vector is a bad response. Vectors of
 * another length than the `dimensions` asked for (a server or model that ignores the
 * field, as some do) are refused with a 400 naming `dimensions` rather than handed on.
 * Returns the response itself when nothing needs changing.
 */
export function fitEmbeddingEncoding(
  response: EmbeddingResponse,
  request: Pick<EmbeddingRequest, 'encoding_format' | 'dimensions'> & { input?: EmbeddingRequest['input'] },
  provider: string,
): EmbeddingResponse {
  const wantBase64 = request.encoding_format === 'base64';
  const dimensions = request.dimensions;
  // A vector per input, or the client pairs vectors with the wrong texts.
  const inputs = inputCount(request.input);
  if (inputs !== undefined && response.data.length !== inputs) {
    throw badResponseError(provider, `embeddings answered ${response.data.length} vectors for ${inputs} inputs`);
  }
  let changed = false;
  const data = response.data.map((item, index) => {
    const embedding: unknown = (item as { embedding?: unknown } | null)?.embedding;
    if (typeof embedding === 'string') {
      const bytes = Buffer.byteLength(embedding, 'base64');
      if (bytes % FLOAT_BYTES !== 0) {
        throw badResponseError(provider, `embeddings data[${index}] is base64 of ${bytes} bytes, not float32s`);
      }
      checkDimensions(bytes / FLOAT_BYTES, dimensions, provider);
      if (wantBase64) return item;
      changed = true;
      return { ...item, embedding: decodeBase64Floats(embedding, index, provider) };
    }
    if (Array.isArray(embedding) && embedding.every((n) => typeof n === 'number')) {
      checkDimensions(embedding.length, dimensions, provider);
      if (!wantBase64) return item;
      changed = true;
      // The wire form is a string where the SDK's type says numbers.
      return { ...item, embedding: encodeBase64Floats(embedding) as unknown as number[] };
    }
    throw badResponseError(provider, `embeddings data[${index}] has no vector (a number array or base64 text)`);
  });
  return changed ? { ...response, data } : response;
}

/** How many vectors the request asks for: one per text or token list (one for a lone text or token list). */
function inputCount(input: EmbeddingRequest['input'] | undefined): number | undefined {
  if (input === undefined) return undefined;
  if (typeof input === 'string') return 1;
  return input.length > 0 && typeof input[0] === 'number' ? 1 : input.length;
}

function encodeBase64Floats(vector: number[]): string {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

function decodeBase64Floats(text: string, index: number, provider: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % FLOAT_BYTES !== 0) {
    throw badResponseError(provider, `embeddings data[${index}] is base64 of ${bytes.length} bytes, not float32s`);
  }
  // Copied: a Float32Array needs an aligned offset, which a pooled Buffer may not have.
  return Array.from(new Float32Array(Uint8Array.from(bytes).buffer));
}

/** Refuses vectors of another length than asked for: stored beside the right ones, they would corrupt an index. */
function checkDimensions(length: number, dimensions: number | null | undefined, provider: string): void {
  if (dimensions === undefined || dimensions === null || length === dimensions) return;
  throw new ProviderError(
    'invalid_request_error',
    `Provider "${provider}" answered ${length}-dimensional embeddings where ${dimensions} were asked for: it does not support "dimensions" for this model.`,
    { provider, reason: 'invalid_request', retryable: false, param: 'dimensions', status: 400 },
  );
}
