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
 * before its blank line is dropped.
 */
export class SseDecoder {
  private pending = '';
  private event: string | null = null;
  private data: string[] = [];
  /** The previous chunk ended in CR: a LF opening this one belongs to it. */
  private skipLf = false;

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SseMessage[] {
    let chunk = text;
    if (this.skipLf && chunk.charCodeAt(0) === 10 /* LF */) chunk = chunk.slice(1);
    this.skipLf = chunk.endsWith('\r');
    let buffer = this.pending + chunk;
    if (buffer.includes('\r')) buffer = buffer.replace(/\r\n?/g, '\n');
    const out: SseMessage[] = [];
    let start = 0;
    for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n', start)) {
      const message = this.line(buffer.slice(start, end));
      if (message) out.push(message);
      start = end + 1;
    }
    this.pending = buffer.slice(start);
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === '') return this.dispatch();
    if (line.charCodeAt(0) === 58 /* : */) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* space */) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    return null;
  }

  private dispatch(): SseMessage | null {
    if (this.data.length === 0 && this.event === null) return null;
    const message = { event: this.event, data: this.data.join('\n') };
    this.event = null;
    this.data = [];
    return message;
  }
}
