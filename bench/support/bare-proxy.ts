import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

/**
 * The floor the gateway's CPU per request is compared with, in every cell of the
 * benchmark: a bare Node reverse proxy that reads the JSON body, parses it,
 * forwards it with undici's `request` on a keep-alive pool and answers: a JSON
 * answer parsed and serialised again, a stream relayed chunk by chunk as it
 * arrives. No auth, limits, routing, usage or metrics.
 */
async function main(upstream: string): Promise<void> {
  const agent = new Agent({ connections: 256 });
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { stream?: boolean };
      request(`${upstream}/chat/completions`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
        .then(async (answer) => {
          if (body.stream !== true) {
            const text = JSON.stringify(await answer.body.json());
            res.writeHead(answer.statusCode, { 'content-type': 'application/json' }).end(text);
            return;
          }
          res.writeHead(answer.statusCode, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          for await (const chunk of answer.body) res.write(chunk);
          res.end();
        })
        .catch(() => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1\n`);
}

void main(process.argv[2]);
