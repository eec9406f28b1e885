import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Principal } from '@app/auth';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientAbort, type RequestContext, requestContext } from './request-context';

describe('ClientAbort', () => {
  it('runs each listener once, in order, with the reason set, and none added after the abort', () => {
    const signal = new ClientAbort();
    const seen: string[] = [];
    const removed = () => seen.push('removed');
    signal.addEventListener('abort', () => seen.push(`first ${String(signal.aborted)}`));
    signal.addEventListener('abort', removed);
    signal.addEventListener('abort', () => seen.push('second'));
    signal.removeEventListener('abort', removed);
    const reason = new Error('gone');
    signal.abort(reason);
    signal.abort(new Error('again'));
    signal.addEventListener('abort', () => seen.push('late'));
    expect(seen).toEqual(['first true', 'second']);
    expect(signal.reason).toBe(reason);
  });

  it('gives an AbortError by default, as AbortController.abort() does', () => {
    const signal = new ClientAbort();
    signal.abort();
    expect(signal.reason).toBeInstanceOf(DOMException);
    expect((signal.reason as DOMException).name).toBe('AbortError');
  });
});

describe('requestContext', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('aborts its signal when the client disconnects before the response is complete, not after it', async () => {
    const contexts = new Map<string, RequestContext>();
    const aborted: string[] = [];
    let arrived: () => void = () => undefined;
    let abortSeen: () => void = () => undefined;
    server = createServer((req, res) => {
      const url = req.url ?? '';
      const ctx = requestContext(
        Object.assign(req, { id: 'req-7', principal: { teamId: 't' } as Principal }),
        res,
        'chat',
      );
      contexts.set(url, ctx);
      ctx.signal.addEventListener('abort', () => {
        aborted.push(url);
        abortSeen();
      });
      if (url === '/answered') res.end('ok');
      else arrived(); // '/cut' is never answered: its client gives up
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;

    const answered = await fetch(`http://127.0.0.1:${port}/answered`, { method: 'POST' });
    expect(await answered.text()).toBe('ok');

    const cutArrived = new Promise<void>((resolve) => (arrived = resolve));
    const cutAborted = new Promise<void>((resolve) => (abortSeen = resolve));
    const cut = request({ host: '127.0.0.1', port, method: 'POST', path: '/cut' });
    cut.on('error', () => undefined);
    cut.end();
    await cutArrived;
    cut.destroy();
    await cutAborted;

    expect(aborted).toEqual(['/cut']);
    expect(contexts.get('/cut')?.clientGone).toBe(true);
    expect(contexts.get('/answered')?.clientGone).toBe(false);
    expect(contexts.get('/answered')?.requestId).toBe('req-7');
  });

  it('is aborted at once when the client left before it was made (while the body was read)', async () => {
    let made: (ctx: RequestContext) => void = () => undefined;
    const context = new Promise<RequestContext>((resolve) => (made = resolve));
    server = createServer((req, res) => {
      res.once('close', () =>
        made(requestContext(Object.assign(req, { id: 'req-8', principal: { teamId: 't' } as Principal }), res, 'chat')),
      );
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const cut = request({ host: '127.0.0.1', port, method: 'POST', path: '/early' });
    cut.on('error', () => undefined);
    cut.write('{');
    setTimeout(() => cut.destroy(), 50);
    const ctx = await context;
    expect(ctx.signal.aborted).toBe(true);
    expect(ctx.clientGone).toBe(true);
    expect(ctx.interruption).toBeUndefined();
  });

  it('names a shutdown as the reason when interrupted, and does not count it as the client leaving', () => {
    const signal = new ClientAbort();
    signal.interrupt();
    expect(signal.aborted).toBe(true);
    expect(signal.interruption?.status).toBe(503);
    expect(signal.reason).toBe(signal.interruption);
  });
});
