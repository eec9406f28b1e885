/** A minimal SSE client over fetch, for `GET /v1/events/stream`. */
export interface EventStreamClient {
  status: number;
  headers: Headers;
  /** Parsed `data:` payloads received so far. */
  events: Array<Record<string, unknown>>;
  /** Comment lines (`: heartbeat ...`) received so far. */
  comments: string[];
  /** Resolves with the first event matching `predicate` (already received or upcoming). */
  waitFor(predicate: (event: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  waitForComment(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openEventStream(url: string, token?: string): Promise<EventStreamClient> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: abort.signal });
  const events: Array<Record<string, unknown>> = [];
  const comments: string[] = [];
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  const ended = (async () => {
    if (!res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((line) => {
              if (line.startsWith(':')) comments.push(line.slice(1).trim());
              return line.startsWith('data: ');
            })
            .map((line) => line.slice(6));
          if (data.length) events.push(JSON.parse(data.join('\n')) as Record<string, unknown>);
        }
        notify();
      }
    } catch {
      // aborted or cut by the server
    }
    notify();
  })();
  let done = false;
  void ended.then(() => (done = true));
  const wait = <T>(find: () => T | undefined, what: string, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const hit = find();
        if (hit !== undefined) return finish(() => resolve(hit));
        if (done) finish(() => reject(new Error(`stream ended before ${what}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${what}`))), timeoutMs);
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        fn();
      };
      listeners.add(check);
      check();
    });
  return {
    status: res.status,
    headers: res.headers,
    events,
    comments,
    ended,
    waitFor: (predicate, timeoutMs = 5_000) => wait(() => events.find(predicate), 'a matching event', timeoutMs),
    waitForComment: (pattern, timeoutMs = 5_000) =>
      wait(() => comments.find((c) => pattern.test(c)), `comment ${pattern}`, timeoutMs),
    close: () => abort.abort(),
  };
}
