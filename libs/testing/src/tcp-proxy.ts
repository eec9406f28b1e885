import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';

/**
 * A TCP proxy in front of a real server (Redis, say) that a test can cut, to
 * see what its client does when the server goes away:
 *
 * - `refuse()`: every connection is closed and new ones are closed at once, as
 *   when the server is down;
 * - `blackhole()`: connections stay open, and nothing passes either way, as in
 *   a network partition (the client sees no error, only silence);
 * - `restore()`: new connections pass again (blackholed ones are closed, so the
 *   client reconnects);
 * - `silenceOpen()`: the connections open now stay open and pass nothing, for good,
 *   while new ones pass, as after a NAT or load balancer lost their state: only a
 *   client that gives up on a silent connection and opens another gets through.
 */
const DEFAULT_PORTS: Record<string, number> = {
  'redis:': 6379,
  'rediss:': 6379,
  'postgres:': 5432,
  'postgresql:': 5432,
};

export class TcpProxy {
  private server?: Server;
  private mode: 'open' | 'refuse' | 'blackhole' = 'open';
  private readonly sockets = new Set<Socket>();
  /** Client sockets that pass nothing any more (see `silenceOpen`). */
  private readonly silenced = new WeakSet<Socket>();

  constructor(private readonly target: { host: string; port: number }) {}

  /** A started proxy in front of the server `url` names, and `url` pointing at the proxy instead. */
  static async before(url: string): Promise<{ proxy: TcpProxy; url: string }> {
    const target = new URL(url);
    const proxy = new TcpProxy({
      host: target.hostname,
      port: Number(target.port) || DEFAULT_PORTS[target.protocol],
    });
    target.port = String(await proxy.start());
    return { proxy, url: target.toString() };
  }

  /** Listens on a free loopback port; resolves to it. */
  async start(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  refuse(): void {
    this.mode = 'refuse';
    this.dropAll();
  }

  blackhole(): void {
    this.mode = 'blackhole';
  }

  silenceOpen(): void {
    for (const socket of this.sockets) this.silenced.add(socket);
  }

  restore(): void {
    if (this.mode === 'blackhole') this.dropAll();
    this.mode = 'open';
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    this.track(client);
    client.on('error', () => client.destroy());
    if (this.mode === 'refuse') return void client.destroy();
    // Blackholed, or blackholed later: what is sent is read and dropped.
    const upstream = this.mode === 'open' ? connect(this.target.port, this.target.host) : undefined;
    if (!upstream) return void client.on('data', () => undefined);
    this.track(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    const passes = () => this.mode === 'open' && !this.silenced.has(client);
    client.on('data', (data: Buffer) => passes() && upstream.write(data));
    upstream.on('data', (data: Buffer) => passes() && client.write(data));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}
