import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallScope } from './call-scope';
import { NoResponseError, postForStream, postForText, type UpstreamPost } from './exchange';
import { UpstreamTooLargeError } from './http';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('upstream exchanges on undici’s dispatcher', () => {
  let server: Server;
  let origin: string;
  let handle: Handler = (_req, res) => res.end();
  let agent: Agent;

  beforeAll(async () => {
    server = createServer((req, res) => handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  afterEach(async () => {
    await agent?.destroy();
  });

  const post = (path = '/'): UpstreamPost => ({
    origin,
    path,
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  const scope = (timeoutMs?: number, controller = new AbortController()) =>
    new CallScope({ signal: controller.signal, requestId: 'req-1' }, timeoutMs);
  const collect = async (chunks: AsyncIterable<string>) => {
    let text = '';
    for await (const chunk of chunks) text += chunk;
    return text;
  };

  it('reads a whole answer sent in pieces, a character split between them, without its byte-order mark', async () => {
    agent = new Agent();
    const bytes = Buffer.from('\ufeff{"text":"héllo €"}');
    handle = (_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-up': 'yes' });
      // Every byte in its own write: the multi-byte characters arrive split.
      for (const byte of bytes) res.write(Buffer.from([byte]));
      res.end();
    };
    const answer = await postForText(agent, post(), scope());
    expect(answer).toMatchObject({ status: 201, text: '{"text":"héllo €"}' });
    expect(answer.headers['x-up']).toBe('yes');
  });

  it('fails an answer past its bound as soon as it is, and closes its connection rather than read the rest', async () => {
    agent = new Agent();
    let closed!: Promise<boolean>;
    handle = (_req, res) => {
      closed = new Promise((resolve) => res.on('close', () => resolve(!res.writableFinished)));
      res.writeHead(200, { 'content-type': 'application/json' });
      const write = (left: number): void => {
        if (left === 0 || res.destroyed) return void res.end();
        res.write(Buffer.alloc(64 * 1024, 0x20), () => write(left - 1));
      };
      write(1024); // 64 MiB (more than the sockets' buffers hold), against a bound of 16 KiB
    };
    const error = await postForText(agent, post(), scope(), 16 * 1024).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UpstreamTooLargeError);
    expect(await closed).toBe(true);
    // Within its bound, the same answer is read whole.
    handle = (_req, res) => res.end(' '.repeat(16 * 1024));
    expect((await postForText(agent, post(), scope(), 16 * 1024)).text).toHaveLength(16 * 1024);
  });

  it('decodes a stream whose characters are split between chunks, without its byte-order mark', async () => {
    agent = new Agent();
    const bytes = Buffer.from('\ufeffdata: {"text":"héllo €"}\n\n');
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const next = () =>
        i < bytes.length ? res.write(Buffer.from([bytes[i++]]), () => setImmediate(next)) : res.end();
      next();
    };
    const stream = await postForStream(agent, post(), scope());
    expect(await collect(stream.chunks())).toBe('data: {"text":"héllo €"}\n\n');
  });

  it('hands over stream chunks as they arrive, before the response ends', async () => {
    agent = new Agent();
    let finish: () => void = () => undefined;
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      finish = () => res.end('data: 2\n\n');
    };
    const stream = await postForStream(agent, post(), scope());
    const chunks = stream.chunks();
    expect(await chunks.next()).toEqual({ done: false, value: 'data: 1\n\n' });
    finish();
    expect(await collect(chunks)).toBe('data: 2\n\n');
  });

  it('delivers a large stream intact to a slow reader (the upstream is paused and resumed)', async () => {
    agent = new Agent();
    const piece = (i: number) => `${String(i).padStart(6, '0')}${'x'.repeat(16_378)}`;
    handle = (_req, res) => {
      res.writeHead(200);
      let i = 0;
      const more = () => {
        while (i < 400) if (!res.write(piece(i++))) return void res.once('drain', more);
        res.end();
      };
      more();
    };
    const stream = await postForStream(agent, post(), scope());
    let text = '';
    let reads = 0;
    for await (const chunk of stream.chunks()) {
      text += chunk;
      if (++reads % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(text).toBe(Array.from({ length: 400 }, (_, i) => piece(i)).join(''));
  });

  it('aborts the upstream request when the reader stops early', async () => {
    agent = new Agent();
    const closed = new Promise<void>((resolve) => {
      handle = (_req, res) => {
        res.writeHead(200);
        res.write('first');
        res.on('close', resolve);
      };
    });
    const stream = await postForStream(agent, post(), scope());
    for await (const chunk of stream.chunks()) {
      expect(chunk).toBe('first');
      break;
    }
    await closed;
  });

  it('rejects at once with the client’s reason, even while waiting for a pooled connection', async () => {
    agent = new Agent({ connections: 1 });
    handle = () => undefined; // never answers: the only connection stays busy
    const busy = postForText(agent, post('/busy'), scope());
    busy.catch(() => undefined);
    const client = new AbortController();
    const queued = postForText(agent, post('/queued'), scope(undefined, client));
    const reason = new Error('client went away');
    setTimeout(() => client.abort(reason), 20);
    await expect(queued).rejects.toBe(reason);
  });

  it('rejects with the timeout when the upstream stays silent, and cuts a stream that goes silent', async () => {
    agent = new Agent();
    handle = () => undefined;
    await expect(postForText(agent, post(), scope(50))).rejects.toThrow('upstream timed out after 50 ms');
    handle = (_req, res) => {
      res.writeHead(200);
      res.write('data: 1\n\n');
    };
    const streamScope = scope(50);
    const stream = await postForStream(agent, post(), streamScope);
    await expect(collect(stream.chunks())).rejects.toThrow('upstream timed out after 50 ms');
    expect(streamScope.timedOut).toBe(true);
  });

  it('tells a connection that failed before any response from a response that broke off', async () => {
    agent = new Agent();
    const refused = await postForText(agent, { ...post(), origin: 'http://127.0.0.1:1' }, scope()).catch((e) => e);
    expect(refused).toBeInstanceOf(NoResponseError);
    expect((refused as NoResponseError).cause).toMatchObject({ code: 'ECONNREFUSED' });

    handle = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.destroy(), 10);
    };
    const broken = await postForText(agent, post(), scope()).catch((e) => e);
    expect(broken).toBeInstanceOf(Error);
    expect(broken).not.toBeInstanceOf(NoResponseError);
  });
});
