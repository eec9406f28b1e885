import type { EmbeddingResponse } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { fitEmbeddingEncoding } from './openai.embeddings';

const base64Of = (vector: number[]) => Buffer.from(new Float32Array(vector).buffer).toString('base64');
const answer = (...embeddings: unknown[]): EmbeddingResponse =>
  ({
    object: 'list',
    model: 'm',
    data: embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    usage: { prompt_tokens: 1, total_tokens: 1 },
  }) as EmbeddingResponse;

describe('fitEmbeddingEncoding', () => {
  it.each([
    ['floats asked, floats sent', 'float', [0.5, -1], [0.5, -1]],
    ['nothing asked (floats), floats sent', undefined, [0.5, -1], [0.5, -1]],
    ['base64 asked, floats sent', 'base64', [0.5, -1], base64Of([0.5, -1])],
    ['base64 asked, base64 sent', 'base64', base64Of([0.25]), base64Of([0.25])],
    ['floats asked, base64 sent', 'float', base64Of([0.25, 2]), [0.25, 2]],
  ] as const)('%s', (_name, format, sent, expected) => {
    expect(fitEmbeddingEncoding(answer(sent), { encoding_format: format }, 'p').data[0].embedding).toEqual(expected);
  });

  it('returns the answer itself when it is already in the asked encoding', () => {
    const response = answer([1, 2]);
    expect(fitEmbeddingEncoding(response, { encoding_format: 'float' }, 'p')).toBe(response);
  });

  it.each([
    ['no vector', undefined],
    ['a vector of strings', ['1']],
    ['base64 that is not float32s', Buffer.from([1, 2, 3]).toString('base64')],
  ])('refuses an item with %s as a bad response', (_name, embedding) => {
    expect(() => fitEmbeddingEncoding(answer(embedding), { encoding_format: 'float' }, 'p')).toThrow(
      /invalid response.*data\[0\]/,
    );
  });

  it('refuses base64 that is not float32s when base64 was asked for too (it was passed on)', () => {
    const sent = Buffer.from([1, 2]).toString('base64');
    expect(() => fitEmbeddingEncoding(answer(sent), { encoding_format: 'base64' }, 'p')).toThrow(
      /invalid response.*data\[0\] is base64 of 2 bytes/,
    );
  });

  it('refuses an answer with another number of vectors than inputs (the client would pair them wrongly)', () => {
    const three = { encoding_format: 'float' as const, input: ['a', 'b', 'c'] };
    expect(() => fitEmbeddingEncoding(answer([1]), three, 'p')).toThrow(/invalid response.*1 vectors for 3 inputs/);
    expect(fitEmbeddingEncoding(answer([1], [2], [3]), three, 'p').data).toHaveLength(3);
    // A lone text, or one token list, asks for one vector.
    for (const input of ['a', [1, 2, 3]]) {
      expect(fitEmbeddingEncoding(answer([1]), { input }, 'p').data).toHaveLength(1);
      expect(() => fitEmbeddingEncoding(answer([1], [2]), { input }, 'p')).toThrow(/2 vectors for 1 inputs/);
    }
    expect(fitEmbeddingEncoding(answer([1], [2]), { input: [[1], [2]] }, 'p').data).toHaveLength(2);
  });

  it.each([
    ['floats', 'float', [1, 2, 3]],
    ['base64', 'base64', base64Of([1, 2, 3])],
  ] as const)(
    'refuses %s of another length than the dimensions asked for with a 400 naming them',
    (_n, format, sent) => {
      expect(() => fitEmbeddingEncoding(answer(sent), { encoding_format: format, dimensions: 2 }, 'p')).toThrow(
        expect.objectContaining({ status: 400, param: 'dimensions' }),
      );
      expect(fitEmbeddingEncoding(answer(sent), { encoding_format: format, dimensions: 3 }, 'p').data).toHaveLength(1);
    },
  );
});
