import type { ServerResponse } from 'node:http';
import { type ErrorEnvelope, jsonText, withFields } from '@app/contracts';

/**
 * The gateway's only SSE framer: writes `data:` (and optionally `event:`) frames
 * as they come, honouring back-pressure, never buffering a whole response.
 * Frames written in the same turn of the event loop (the headers and the first
 * frame, or the several events of one upstream packet, with the end of the
 * stream when it came in that packet too) leave in one socket write: the
 * response is corked on the first write and uncorked by `setImmediate`, once the
 * turn's I/O callbacks, ticks and promise jobs have run.
 */
export class SseStream {
  private opened = false;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    if (!this.res.writableEnded) this.res.uncork();
  };

  constructor(private readonly res: ServerResponse) {}

  get started(): boolean {
    return this.opened;
  }

  /** Sends the status line and headers (the moment the first chunk is ready). */
  open(headers: Record<string, string> = {}): void {
    if (this.opened) return;
    this.opened = true;
    this.res.writeHead(
      200,
      withFields(headers, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      }),
    );
    this.cork();
    this.res.flushHeaders();
  }

  /** One `data:` frame (with `event:` when given); resolves when the socket can take more. */
  send(data: object | string, event?: string): Promise<void> | undefined {
    if (!this.opened) this.open();
    if (this.res.destroyed || this.res.writableEnded) return undefined;
    const payload = typeof data === 'string' ? data : jsonText(data);
    const frame = event ? `event: ${event}\ndata: ${payload}\n\n` : `data: ${payload}\n\n`;
    this.cork();
    if (this.res.write(frame)) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }

  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.res.cork();
    setImmediate(this.uncork);
  }

  /** A comment line, to keep idle connections open through proxies. */
  heartbeat(): void {
    if (this.opened && !this.res.writableEnded && !this.res.destroyed) this.res.write(': ping\n\n');
  }

  /** OpenAI's in-stream error: a final `data: {"error": ...}` frame, then `[DONE]`. */
  async fail(envelope: ErrorEnvelope, event?: string): Promise<void> {
    await this.send(envelope, event);
    this.end(event ? undefined : '[DONE]');
  }

  end(finalData?: string): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (finalData) this.res.write(`data: ${finalData}\n\n`);
    this.res.end();
  }
}
