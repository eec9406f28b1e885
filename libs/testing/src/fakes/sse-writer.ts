import type { ServerResponse } from 'node:http';

/** One server-sent event: an optional `event:` name and a `data:` payload (objects are JSON-encoded). */
export interface SseEvent {
  event?: string;
  data: unknown;
}

/** Response headers every SSE reply of the fakes carries, as the real providers send them. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

/** Frames one event exactly as it goes on the wire: `event: x\ndata: {...}\n\n`. */
export function formatSseEvent(sse: SseEvent): string {
  const data = typeof sse.data === 'string' ? sse.data : JSON.stringify(sse.data);
  const lines = data.split('\n').map((line) => `data: ${line}\n`);
  return `${sse.event === undefined ? '' : `event: ${sse.event}\n`}${lines.join('')}\n`;
}

/** Writes SSE frames to a response, resolving once each frame reached the socket. */
export class SseWriter {
  constructor(private readonly res: ServerResponse) {}

  /** Sends the status line and headers right away, so clients see the stream open. */
  open(headers: Record<string, string> = {}): void {
    this.res.writeHead(200, { ...SSE_HEADERS, ...headers });
    this.res.flushHeaders();
  }

  /** Resolves when the frame was handed to the kernel (or the socket is gone). */
  send(sse: SseEvent): Promise<void> {
    return this.writeRaw(formatSseEvent(sse));
  }

  writeRaw(chunk: string | Buffer): Promise<void> {
    if (this.res.destroyed || this.res.writableEnded) return Promise.resolve();
    return new Promise((resolve) => {
      this.res.write(chunk, () => resolve());
    });
  }

  end(): void {
    if (!this.res.destroyed && !this.res.writableEnded) this.res.end();
  }
}
