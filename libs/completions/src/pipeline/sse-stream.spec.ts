import { once } from 'node:events';
import { type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseStream } from './sse-stream';

/** A real HTTP server whose one handler gets the response; the client reads the raw bytes (chunk framing included). */
async function exchange(handle: (sse: SseStream, res: ServerResponse) => void | Promise<void>) {
  const server: Server = createServer((_req, res) => void handle(new SseStream(res), res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const socket: Socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  socket.setEncoding('latin1');
  socket.write('GET / HTTP/1.1\r\nhost: localhost\r\n\r\n');
  return socket;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Reads until the final zero-length chunk; returns the body's chunks (the chunked encoding undone). */
async function chunksOf(socket: Socket): Promise<{ head: string; chunks: string[] }> {
  let raw = '';
  for await (const data of socket) {
    raw += data as string;
    if (raw.endsWith('\r\n0\r\n\r\n')) break;
  }
  const [head, body] = [raw.slice(0, raw.indexOf('\r\n\r\n')), raw.slice(raw.indexOf('\r\n\r\n') + 4)];
  const chunks: string[] = [];
  for (let at = 0; ;) {
    const eol = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, eol), 16);
    if (size === 0) break;
    chunks.push(body.slice(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return { head, chunks };
}

describe('SseStream', () => {
  it('joins the frames sent in one turn into one chunk of the response, the end into the last', async () => {
    const socket = await exchange(async (sse) => {
      sse.open({ 'x-test': 'yes' });
      void sse.send({ n: 1 });
      void sse.send('{"n":2}');
      await new Promise((resolve) => setTimeout(resolve, 20));
      void sse.send({ n: 3 }, 'named');
      sse.end('[DONE]');
    });
    const { head, chunks } = await chunksOf(socket);
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/\r\ncontent-type: text\/event-stream; charset=utf-8(\r\n|$)/i);
    expect(head).toMatch(/\r\nx-test: yes(\r\n|$)/i);
    expect(chunks).toEqual(['data: {"n":1}\n\ndata: {"n":2}\n\n', 'event: named\ndata: {"n":3}\n\ndata: [DONE]\n\n']);
  });

  it('sends the headers at the end of the turn when no frame comes with them', async () => {
    let finish!: () => void;
    const socket = await exchange(async (sse) => {
      sse.open();
      await new Promise<void>((resolve) => (finish = resolve));
      sse.end();
    });
    let raw = '';
    for await (const data of socket) {
      raw += data as string;
      if (raw.includes('\r\n\r\n')) break;
    }
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    finish();
  });

  it('holds the sender back while the client reads nothing, and loses no frame', async () => {
    const frame = 'x'.repeat(16 * 1024);
    let sent = 0;
    let heldBack = false;
    const socket = await exchange(async (sse) => {
      // Frames beyond what the socket takes: send answers with a promise once it is full.
      while (sent < 2_000) {
        sent++;
        const wait = sse.send(`${sent}:${frame}`);
        if (wait) {
          heldBack = true;
          await wait;
          break;
        }
      }
      sse.end('[DONE]');
    });
    socket.pause();
    await expect.poll(() => heldBack, { timeout: 5_000 }).toBe(true);
    expect(sent).toBeLessThan(2_000);
    socket.resume();
    const { chunks } = await chunksOf(socket);
    const frames = chunks.join('').split('\n\n').filter(Boolean);
    expect(frames).toHaveLength(sent + 1);
    expect(frames.slice(0, -1).map((f) => Number(f.slice(6, f.indexOf(':', 6))))).toEqual(
      Array.from({ length: sent }, (_, i) => i + 1),
    );
    expect(frames.at(-1)).toBe('data: [DONE]');
  });
});
