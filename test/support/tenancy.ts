import { TEST_MASTER_KEY, type TestPlatform } from './platform';

/** Parsed JSON bodies: tests read them freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiResponse<T = Json> {
  status: number;
  body: T;
  headers: Headers;
}

/** JSON over HTTP with an optional bearer token (JWT, master key or API key). */
export async function call<T = Json>(
  url: string,
  options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: Json = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

/** The admin API of a platform, as the master key by default. */
export function adminApi(platform: TestPlatform, token = TEST_MASTER_KEY) {
  const at = (path: string) => `${platform.adminUrl}${path}`;
  return {
    get: <T = Json>(path: string, as = token) => call<T>(at(path), { token: as }),
    post: <T = Json>(path: string, body: unknown = {}, as = token) =>
      call<T>(at(path), { method: 'POST', body, token: as }),
    patch: <T = Json>(path: string, body: unknown, as = token) =>
      call<T>(at(path), { method: 'PATCH', body, token: as }),
    delete: <T = Json>(path: string, as = token) => call<T>(at(path), { method: 'DELETE', token: as }),
  };
}

/** The usage record of a request, once the gateway has written it (it writes in batches). */
export async function usageRecord(platform: TestPlatform, requestId: string, tries = 50): Promise<Json> {
  for (let i = 0; i < tries; i++) {
    const res = await adminApi(platform).get(`/api/usage/records?requestId=${requestId}`);
    if (res.body.data?.length) return res.body.data[0];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no usage record for ${requestId}`);
}

let counter = 0;
/** A unique name per call, so tests never collide in one database. */
export function unique(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** Creates a team and returns its id. */
export async function createTeam(platform: TestPlatform, fields: Record<string, unknown> = {}): Promise<string> {
  const res = await adminApi(platform).post('/api/teams', { name: unique('team'), ...fields });
  if (res.status !== 201) throw new Error(`team creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Creates a key for the team and returns its id and plaintext. */
export async function createKey(
  platform: TestPlatform,
  teamId: string,
  fields: Record<string, unknown> = {},
): Promise<{ id: string; key: string }> {
  const res = await adminApi(platform).post('/api/keys', { teamId, name: unique('key'), ...fields });
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id as string, key: res.body.key as string };
}

/** Creates a member (or admin) and logs them in; returns the access token. */
export async function createUserAndLogin(
  platform: TestPlatform,
  fields: { role: 'admin' | 'member'; teamId?: string | null },
): Promise<{ id: string; email: string; token: string }> {
  const email = `${unique('user')}@example.com`;
  const password = 'a good long password';
  const created = await adminApi(platform).post('/api/users', { email, password, ...fields });
  if (created.status !== 201)
    throw new Error(`user creation failed: ${created.status} ${JSON.stringify(created.body)}`);
  const login = await call(`${platform.adminUrl}/api/auth/login`, { body: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { id: created.body.id as string, email, token: login.body.accessToken as string };
}

export const me = (platform: TestPlatform, key: string) => call(`${platform.gatewayUrl}/v1/me`, { token: key });
