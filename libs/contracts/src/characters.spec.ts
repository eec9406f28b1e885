import { describe, expect, it } from 'vitest';
import { headerValue } from './characters';

describe('headerValue', () => {
  it('keeps printable ASCII, and percent-encodes anything else', () => {
    expect(headerValue('gpt-4o mini')).toBe('gpt-4o mini');
    expect(headerValue('模型')).toBe('%E6%A8%A1%E5%9E%8B');
    expect(headerValue('a\r\nb')).toBe('a%0D%0Ab');
  });

  it('encodes an unpaired surrogate as U+FFFD, where encodeURIComponent throws', () => {
    expect(headerValue('served\ud800')).toBe('served%EF%BF%BD');
    expect(headerValue('\udc00x')).toBe('%EF%BF%BDx');
  });
});
