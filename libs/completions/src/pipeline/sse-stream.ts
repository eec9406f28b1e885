import type { ServerResponse } from 'node:http';
import { type ErrorEnvelope, jsonText, withFields } from '@app/contracts';
import { withRequestId } from '@app/server';

/** Frames held past this many characters are written at once instead of at the end of the turn. */
const MAX_PENDING_CHARS = 64 * 1024;

/**
 * The gateway's only SSE framer: writes `data:` (and optionally `event:`) frames
 * as they come, honouring back-pressure, never buffering a whole response.
 * Frames sent in the same turn of the event loop (the headers and the first
 * frame, or the several events of one upstream packet, with the end of the
 * stream when it came in that packet too) are joined into one write of the
 * response (one chunk of its chunked encoding, one socket write) by
 * `setImmediate`, once the turn's I/O callbacks, ticks and promise jobs have run,
 * or by the end of the stream; a write per frame costs the response's stream
 * machinery and two more buffers of chunk framing each.
 */
export class SseStream {
  private opened = false;
  /** Something (the headers at least) has been written to the socket. */
  private wrote = false;
  /** Frames not written yet. */
  private pending = '';
  private scheduled = false;
  /** While the socket takes no more: settles on `drain` (or `close`). */
  private full: Promise<void> | undefined;
  private readonly flushScheduled = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(private readonly res: ServerResponse) {}

  /**
   * Sets the status line and headers (the request id among them); they leave with
   * the first frames, or alone at the end of the turn.
   */
  open(headers: Record<string, string> = {}): void {
    if (this.opened) return;
    this.opened = true;
    const head = withFields(headers, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.res.writeHead(200, withRequestId(this.res, head));
    this.schedule();
  }

  /**
   * One `data:` frame (with `event:` when given). Returns a promise while the
   * socket takes no more (the caller waits for it before sending more), else
   * `undefined`.
   */
  send(data: object | string, event?: string): Promise<void> | undefined {
    if (!this.opened) this.open();
    if (this.closed) return undefined;
    const payload = typeof data === 'string' ? data : oneLine(data);
    this.pending += event ? `event: ${event}\ndata: ${payload}\n\n` : `data: ${payload}\n\n`;
    if (this.pending.length >= MAX_PENDING_CHARS) this.flush();
    else this.schedule();
    return this.full;
  }

  /** OpenAI's in-stream error: a final `data: {"error": ...}` frame, then `[DONE]`. */
  async fail(envelope: ErrorEnvelope, event?: string): Promise<void> {
    await this.send(envelope, event);
    this.end(event ? undefined : '[DONE]');
  }

  /** Ends the response, the frames still held (and `finalData`'s frame) in its last write. */
  end(finalData?: string): void {
    if (this.closed) return;
    if (!this.opened) this.open();
    if (finalData) this.pending += `data: ${finalData}\n\n`;
    const rest = this.pending;
    this.pending = '';
    if (rest) this.res.end(rest);
    else this.res.end();
  }

  private get closed(): boolean {
    return this.res.writableEnded || this.res.destroyed;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushScheduled);
  }

  private flush(): void {
    if (this.closed) return;
    if (!this.pending) {
      // Nothing to send with them: the headers leave alone, so the client knows the stream began.
      if (!this.wrote) this.res.flushHeaders();
      this.wrote = true;
      return;
    }
    const frames = this.pending;
    this.pending = '';
    this.wrote = true;
    if (this.res.write(frames) || this.full) return;
    this.full = new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        this.full = undefined;
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }
}

/**
 * The JSON of a frame's data, on one line: the text an upstream event was parsed
 * from when it has no line break (an upstream may spread its JSON over several
 * `data:` lines), else serialised.
 */
function oneLine(data: object): string {
  const text = jsonText(data);
  return text.includes('\n') || text.includes('\r') ? JSON.stringify(data) : text;
}
