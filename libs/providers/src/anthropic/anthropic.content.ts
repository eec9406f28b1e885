import {
  GatewayError,
  unsupportedByProvider,
  type AnthropicContentBlockParam,
  type AnthropicImageMediaType,
  type AnthropicTextBlockParam,
  type ChatContentPart,
} from '@app/contracts';

/** Pure conversion of OpenAI message content parts into Anthropic content blocks. */

const IMAGE_TYPES: ReadonlySet<string> = new Set<AnthropicImageMediaType>([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
]);

interface DataUrl {
  mediaType: string;
  data: string;
}

export function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request_error', message, { param });
}

/** `data:<type>;base64,<data>`; other data URLs are not something the upstream accepts. */
export function parseDataUrl(url: string): DataUrl | undefined {
  const match = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s.exec(url);
  return match ? { mediaType: match[1].toLowerCase(), data: match[2] } : undefined;
}

function isImageType(mediaType: string): mediaType is AnthropicImageMediaType {
  return IMAGE_TYPES.has(mediaType);
}

export function imageBlock(url: string, param: string): AnthropicContentBlockParam {
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  const data = parseDataUrl(url);
  if (!data) throw invalid(param, 'image_url must be an http(s) URL or a base64 data: URL');
  // `image/jpg` is no registered type, but clients name JPEG files so and OpenAI takes them.
  if (data.mediaType === 'image/jpg') data.mediaType = 'image/jpeg';
  if (!isImageType(data.mediaType)) {
    throw unsupportedByProvider(param, `image type ${data.mediaType} is not supported (jpeg, png, gif, webp)`);
  }
  return { type: 'image', source: { type: 'base64', media_type: data.mediaType, data: data.data } };
}

function fileBlock(fileData: string | undefined, param: string): AnthropicContentBlockParam {
  const data = fileData ? parseDataUrl(fileData) : undefined;
  if (data?.mediaType === 'application/pdf') {
    return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: data.data } };
  }
  throw unsupportedByProvider(
    param,
    'only inline PDF files (file_data as a base64 data: URL) are supported by this provider',
  );
}

/** User content: text, images (data: and http URLs), inline PDFs. Audio cannot be expressed. */
export function userBlocks(content: string | ChatContentPart[], param: string): string | AnthropicContentBlockParam[] {
  if (typeof content === 'string') return content;
  return content.flatMap((part, j): AnthropicContentBlockParam[] => {
    const at = `${param}[${j}]`;
    switch (part.type) {
      case 'text':
        return part.text ? [{ type: 'text', text: part.text, ...cacheControlOf(part) }] : [];
      case 'image_url':
        return [imageBlock(part.image_url.url, `${at}.image_url.url`)];
      case 'file':
        return [fileBlock(part.file.file_data, `${at}.file`)];
      case 'input_audio':
        throw unsupportedByProvider(at, 'audio input is not supported by this provider');
      default:
        throw unsupportedByProvider(at, 'unsupported content part type');
    }
  });
}

/**
 * Anthropic's prompt-caching mark, when a client put it on an OpenAI content
 * part (the extension LiteLLM and OpenRouter accept); otherwise nothing.
 */
export function cacheControlOf(part: object): { cache_control?: { type: 'ephemeral'; ttl?: '5m' | '1h' } } {
  const mark = (part as { cache_control?: { type?: unknown; ttl?: unknown } }).cache_control;
  if (!mark || mark.type !== 'ephemeral') return {};
  const ttl = mark.ttl === '5m' || mark.ttl === '1h' ? mark.ttl : undefined;
  return { cache_control: ttl ? { type: 'ephemeral', ttl } : { type: 'ephemeral' } };
}

interface TextLike {
  type: string;
  text?: string;
  refusal?: string;
}

/** Text of a system / developer / tool message, parts joined by newlines. */
export function plainText(content: string | ReadonlyArray<TextLike> | null | undefined): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part) => part.text ?? part.refusal ?? '')
    .filter((text) => text.length > 0)
    .join('\n');
}

/** Assistant text content as blocks (refusals in history become plain text). */
export function assistantTextBlocks(
  content: string | ReadonlyArray<TextLike> | null | undefined,
): AnthropicTextBlockParam[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return content
    .map((part) => part.text ?? part.refusal ?? '')
    .filter((text) => text.length > 0)
    .map((text) => ({ type: 'text', text }));
}

/**
 * An assistant message's `thinking_blocks` (LiteLLM's field, see `ChatThinkingBlock`)
 * as Anthropic blocks, unchanged: Anthropic checks each signature against its text.
 * A `thinking` block without a signature was written by no Anthropic model (another
 * provider's reasoning) and is left out, as Anthropic could not verify it.
 */
export function thinkingBlocks(blocks: unknown, i: number): AnthropicContentBlockParam[] {
  const param = `messages[${i}].thinking_blocks`;
  if (!Array.isArray(blocks)) throw invalid(param, 'thinking_blocks must be an array of thinking blocks');
  const out: AnthropicContentBlockParam[] = [];
  blocks.forEach((block: Partial<Record<string, unknown>> | null, j) => {
    const at = `${param}[${j}]`;
    if (block?.type === 'thinking') {
      if (typeof block.thinking !== 'string') throw invalid(`${at}.thinking`, 'thinking must be a string');
      if (typeof block.signature === 'string' && block.signature !== '') {
        out.push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
      }
    } else if (block?.type === 'redacted_thinking') {
      if (typeof block.data !== 'string') throw invalid(`${at}.data`, 'data must be a string');
      out.push({ type: 'redacted_thinking', data: block.data });
    } else {
      throw invalid(at, "a thinking block must have type 'thinking' or 'redacted_thinking'");
    }
  });
  return out;
}
