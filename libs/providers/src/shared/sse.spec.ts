import { describe, expect, it } from 'vitest';
import { UpstreamTooLargeError } from './http';
import { SseDecoder, type SseMessage } from './sse';

function decode(chunks: string[]): SseMessage[] {
  const decoder = new SseDecoder();
  return chunks.flatMap((chunk) => decoder.push(chunk));
}

describe('SseDecoder', () => {
  const two = 'data: {"a":1}\n\ndata: [DONE]\n\n';

  it.each([
    ['whole', [two]],
    ['split inside a line', ['data: {"a"', ':1}\n\ndata: [DO', 'NE]\n\n']],
    ['split between the two LFs', ['data: {"a":1}\n', '\ndata: [DONE]\n', '\n']],
    ['one character at a time', [...two]],
    ['CRLF', [two.replaceAll('\n', '\r\n')]],
    ['CRLF split between CR and LF', ['data: {"a":1}\r', '\n\r', '\ndata: [DONE]\r\n\r\n']],
    ['CR only', [two.replaceAll('\n', '\r')]],
  ])('decodes events %s', (_name, chunks) => {
    expect(decode(chunks)).toEqual([
      { event: null, data: '{"a":1}' },
      { event: null, data: '[DONE]' },
    ]);
  });

  it('holds no event, and no line of any kind, longer than its limit', () => {
    expect(new SseDecoder(8).push('data: 12345678\n\n')).toEqual([{ event: null, data: '12345678' }]);
    expect(() => new SseDecoder(8).push('data: 123456789\n')).toThrow(UpstreamTooLargeError);
    expect(() => new SseDecoder(8).push('data: 1234\ndata: 5678\n')).toThrow(UpstreamTooLargeError);
    // An unfinished line, a comment as much as data, arriving piece by piece.
    const decoder = new SseDecoder(8);
    expect(() => [...': keep-alive'].forEach((c) => decoder.push(c))).toThrow(UpstreamTooLargeError);
  });

  it('reads event names, joins data lines, skips comments and unknown fields', () => {
    expect(decode([': ping\n\nevent: error\nid: 7\ndata: {"error":\ndata:{"x":1}}\n\n'])).toEqual([
      { event: 'error', data: '{"error":\n{"x":1}}' },
    ]);
  });

  it('drops an event the stream ends before its blank line, and dispatches nothing empty', () => {
    expect(decode(['\n\n: c\n\ndata: {"a":1}\n'])).toEqual([]);
  });

  it.each<[string, string, string | undefined]>([
    ['between events', 'data: {"a":1}\n\n', undefined],
    ['after a comment', 'data: {"a":1}\n\n: ping', undefined],
    ['in an unfinished line', 'data: {"a":1}\n\ndata: {"b"', '{"b"'],
    ['before the blank line', 'data: {"a":1}\n\ndata: {"b":2}\n', '{"b":2}'],
    ['with a CR line end', 'data: [DONE]\r', '[DONE]'],
  ])('tells, at the end, what an event cut short held: %s', (_name, text, cut) => {
    const decoder = new SseDecoder();
    expect(decoder.push(text)).toEqual(
      [{ event: null, data: '{"a":1}' }].slice(0, text.startsWith('data: [DONE]') ? 0 : 1),
    );
    expect(decoder.end()).toBe(cut);
  });
});
