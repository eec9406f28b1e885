import { MAX_STREAM_EVENT_BYTES, UpstreamTooLargeError } from './http';

/** One server-sent event: its `event:` name (null when absent) and its `data:` lines joined by "\n". */
export interface SseMessage {
  event: string | null;
  data: string;
}

/**
 * Incremental server-sent-events decoder (the WHATWG rules the SDKs follow):
 * lines end in LF, CRLF or CR, `:` lines are comments, one leading space after
 * the colon is dropped, a blank line dispatches the event when it has data or a
 * name. Text arrives chunk by chunk, split anywhere; nothing is buffered beyond
 * the current unfinished line and event. As in the SDKs, an event the stream ends
 * before its blank line is dropped. An event (or a line of any kind, a comment too)
 * longer than `maxChars` is an {@link UpstreamTooLargeError}: the decoder never holds more.
 */
export class SseDecoder {
  private pending = '';
  private event: string | null = null;
  /** The event's data lines so far, joined by LF; null before the first. */
  private data: string | null = null;
  /** The previous chunk ended in CR: a LF opening this one belongs to it. */
  private skipLf = false;

  constructor(private readonly maxChars = MAX_STREAM_EVENT_BYTES) {}

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SseMessage[] {
    let chunk = text;
    if (this.skipLf && chunk.charCodeAt(0) === 10 /* LF */) chunk = chunk.slice(1);
    this.skipLf = chunk.endsWith('\r');
    if (chunk.includes('\r')) chunk = chunk.replace(/\r\n?/g, '\n');
    // What is pending holds no line end (nor a CR): only the new text is searched, so a
    // long line arriving in many small chunks costs its length, not its length squared.
    const searchFrom = this.pending.length;
    const buffer = searchFrom === 0 ? chunk : this.pending + chunk;
    const out: SseMessage[] = [];
    let start = 0;
    for (let end = buffer.indexOf('\n', searchFrom); end !== -1; end = buffer.indexOf('\n', start)) {
      if (end === start) {
        const message = this.dispatch();
        if (message) out.push(message);
      } else {
        this.line(buffer, start, end);
      }
      start = end + 1;
    }
    this.pending = start === 0 ? buffer : buffer.slice(start);
    if (this.pending.length > this.maxChars) throw this.tooLarge();
    return out;
  }

  /**
   * The stream ended: the data of an event it cut short (data lines or an unfinished
   * line, without the blank line that would have dispatched it), else `undefined`.
   * Whether that is a last event a server sent without its blank line, or half an
   * event, is the caller's to decide: `push` drops it, as the SDKs do.
   */
  end(): string | undefined {
    const rest = this.pending;
    this.pending = '';
    if (rest !== '') this.line(rest, 0, rest.length);
    const message = this.dispatch();
    return message && message.data !== '' ? message.data : undefined;
  }

  /** The field of `buffer[start, end)`, a non-empty line. */
  private line(buffer: string, start: number, end: number): void {
    if (buffer.charCodeAt(start) === 58 /* : */) return;
    // The common line, `data: <json>`, costs one slice.
    if (buffer.startsWith('data: ', start)) return this.addData(buffer.slice(start + 6, end));
    const colon = buffer.indexOf(':', start);
    const fieldEnd = colon === -1 || colon > end ? end : colon;
    const field = buffer.slice(start, fieldEnd);
    let valueStart = fieldEnd === end ? end : fieldEnd + 1;
    if (buffer.charCodeAt(valueStart) === 32 /* space */ && valueStart < end) valueStart++;
    const value = buffer.slice(valueStart, end);
    if (field === 'data') this.addData(value);
    else if (field === 'event') this.event = value;
  }

  private addData(value: string): void {
    this.data = this.data === null ? value : `${this.data}\n${value}`;
    if (this.data.length > this.maxChars) throw this.tooLarge();
  }

  private tooLarge(): UpstreamTooLargeError {
    return new UpstreamTooLargeError('a stream event', this.maxChars);
  }

  private dispatch(): SseMessage | null {
    if (this.data === null && this.event === null) return null;
    const message = { event: this.event, data: this.data ?? '' };
    this.event = null;
    this.data = null;
    return message;
  }
}
