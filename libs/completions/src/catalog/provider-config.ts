import { z } from 'zod';
import { baseUrlProblem, type AppConfig, SecretCipher } from '@app/config';
import { hasControlCharacter } from '@app/contracts';
import type { ProviderWithSecret } from '@app/db';
import { createProviderAdapter, PROVIDER_KINDS, type ProviderConfig } from '@app/providers';

/** A provider name: a lowercase slug, never containing `/` (it is the prefix of `provider/model`). */
export const PROVIDER_NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62})$/;

export const providerNameSchema = z
  .string()
  .regex(PROVIDER_NAME, "must be a lowercase slug of letters, digits, '.', '_' or '-' (at most 63, no '/')");

export const providerKindSchema = z.enum(PROVIDER_KINDS);

/** A provider's base URL: http(s), no credentials, query or fragment (see `baseUrlProblem`). */
export const httpUrlSchema = z
  .string()
  .trim()
  .max(2048)
  .superRefine((value, ctx) => {
    const problem = baseUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const NO_CONTROL_CHARACTER = 'must not contain control characters';

/** Trimmed text without control characters (PostgreSQL cannot store NUL; CR/LF break headers and logs). */
export const plainText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .refine((value) => !hasControlCharacter(value), NO_CONTROL_CHARACTER);

/**
 * What undici sends as a header value (the API key travels in one): visible ASCII,
 * Latin-1, spaces and tabs; CR, LF, NUL or a wider character would fail every call.
 */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const HEADER_VALUE_MESSAGE = 'must hold only printable characters (no control characters or line breaks)';

/**
 * Headers that frame the message or the connection: the HTTP client sets them itself and
 * refuses them (or, for `content-length`, every body of another length), so a provider
 * configured with one would fail every call.
 */
const FRAMING_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'expect',
  'connection',
  'proxy-connection',
  'te',
  'trailer',
  'http2-settings',
]);

/**
 * Most extra headers a provider sends, and their size together: servers refuse a head
 * over 8-16 KiB (431), and the HTTP client adds its own headers to these.
 */
const MAX_HEADERS = 64;
const MAX_HEADER_BYTES = 8192;

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'must be an HTTP header name');

/** Most model-to-deployment entries an Azure provider takes (`options.deployments`), as many as its models. */
const MAX_DEPLOYMENTS = 2000;

/** Most per-model entries a provider takes (`options.models`). */
export const MAX_MODEL_OVERRIDES = 500;

/** Whether a key of `options.models` is a model name, or a glob of them where `*` matches any run of characters. */
const isModelPattern = (key: string): boolean => key.length > 0 && key.length <= 256 && !hasControlCharacter(key);

/** What differs for the models a key names: the provider-wide flags, per model. */
const modelCapabilityOverride = z.strictObject({
  nativeTools: z.boolean().optional(),
  nativeJsonSchema: z.boolean().optional(),
});

/** Kind-specific settings (stored in the provider's `config` column). */
export const providerOptionsSchema = z
  .strictObject({
    // Anthropic sends it as the anthropic-version header.
    apiVersion: plainText(64).min(1).regex(HEADER_VALUE, HEADER_VALUE_MESSAGE).optional(),
    deployments: z
      .record(
        z
          .string()
          .min(1)
          .max(256)
          .refine((value) => !hasControlCharacter(value), NO_CONTROL_CHARACTER),
        plainText(256).min(1),
      )
      .refine((deployments) => Object.keys(deployments).length <= MAX_DEPLOYMENTS, {
        message: `must have at most ${MAX_DEPLOYMENTS} entries`,
      })
      .optional(),
    headers: z
      .record(headerName, z.string().max(4096).regex(HEADER_VALUE, HEADER_VALUE_MESSAGE))
      .superRefine((headers, ctx) => {
        const entries = Object.entries(headers);
        for (const [name] of entries) {
          if (!FRAMING_HEADERS.has(name.toLowerCase())) continue;
          ctx.addIssue({ code: 'custom', path: [name], message: 'is set by the HTTP client and cannot be configured' });
        }
        if (entries.length > MAX_HEADERS) {
          ctx.addIssue({ code: 'custom', message: `must have at most ${MAX_HEADERS} headers` });
        }
        const size = entries.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
        if (size > MAX_HEADER_BYTES) {
          ctx.addIssue({ code: 'custom', message: `must hold at most ${MAX_HEADER_BYTES} characters in all` });
        }
      })
      .optional(),
    nativeTools: z.boolean().optional(),
    nativeJsonSchema: z.boolean().optional(),
    models: z
      .record(z.string(), modelCapabilityOverride)
      .superRefine((models, ctx) => {
        const keys = Object.keys(models);
        if (keys.length > MAX_MODEL_OVERRIDES) {
          ctx.addIssue({ code: 'custom', message: `must have at most ${MAX_MODEL_OVERRIDES} entries` });
        }
        const bad = keys.find((key) => !isModelPattern(key));
        if (bad !== undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `${JSON.stringify(bad)} is no model name or glob: 1 to 256 characters, no control characters`,
          });
        }
      })
      .optional()
      .meta({
        description:
          'Per model (a name, or a glob where * matches any characters): nativeTools / nativeJsonSchema, ' +
          "overriding the provider's (ollama and openai-compatible). The model's own name wins over globs, " +
          'and a glob with more characters besides * over one with fewer.',
      }),
    reasoningHistory: z
      .enum(['reasoning_content', 'reasoning'])
      .optional()
      .meta({
        description:
          'The assistant message field in which the upstream takes its earlier reasoning back (ollama and ' +
          'openai-compatible): where thinking blocks of /v1/messages history go. DeepSeek needs reasoning_content ' +
          '(the default for api.deepseek.com); unset elsewhere, they are left out.',
      }),
  })
  .meta({ id: 'ProviderOptions' });

/** Model ids (duplicates are dropped when stored). */
export const modelListSchema = z.array(plainText(256).min(1)).max(2000);

export const timeoutMsSchema = z.number().int().min(1).max(3_600_000);

export const apiKeySchema = z.string().trim().min(1).max(8192).regex(HEADER_VALUE, HEADER_VALUE_MESSAGE);

/**
 * Providers declared through the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY,
 * OLLAMA_HOST, GEMINI_API_KEY), each named after its kind.
 */
export function environmentProviders(config: Pick<AppConfig, 'providers'>): ProviderConfig[] {
  const { openai, anthropic, ollama, gemini } = config.providers;
  const list: ProviderConfig[] = [];
  if (openai) list.push({ name: 'openai', kind: 'openai', apiKey: openai.apiKey, baseUrl: openai.baseUrl });
  if (anthropic) {
    list.push({ name: 'anthropic', kind: 'anthropic', apiKey: anthropic.apiKey, baseUrl: anthropic.baseUrl });
  }
  if (ollama) list.push({ name: 'ollama', kind: 'ollama', baseUrl: ollama.baseUrl });
  if (gemini) list.push({ name: 'gemini', kind: 'gemini', apiKey: gemini.apiKey, baseUrl: gemini.baseUrl });
  if (config.providers.mock) list.push({ name: 'mock', kind: 'mock' });
  return list;
}

/** `options` with each value of `headers` mapped by `map`. */
function mapHeaders(options: Record<string, unknown>, map: (value: string) => string): Record<string, unknown> {
  const headers = options.headers;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return options;
  const mapped = Object.entries(headers as Record<string, unknown>).map(([name, value]) => [
    name,
    typeof value === 'string' ? map(value) : value,
  ]);
  return { ...options, headers: Object.fromEntries(mapped) };
}

/**
 * Options as stored: the values of `headers` (tokens, as the API key is one) encrypted
 * with the provider credentials' cipher. With `plainOnly`, the values of stored options
 * that are still in clear (stored before header values were encrypted).
 */
export function sealHeaders(
  options: Record<string, unknown>,
  cipher: SecretCipher,
  plainOnly = false,
): Record<string, unknown> {
  return mapHeaders(options, (value) => (plainOnly && SecretCipher.isSealed(value) ? value : cipher.encrypt(value)));
}

/**
 * Stored options with the values of `headers` decrypted (one stored in clear, before
 * they were encrypted, as it is). @throws SecretDecryptionError when one cannot be decrypted
 */
export function openHeaders(options: Record<string, unknown>, cipher: SecretCipher): Record<string, unknown> {
  return mapHeaders(options, (value) => openHeaderValue(value, cipher));
}

/** One stored header value decrypted (as it is when stored in clear). @throws SecretDecryptionError */
export function openHeaderValue(value: string, cipher: SecretCipher): string {
  return SecretCipher.isSealed(value) ? cipher.decrypt(value) : value;
}

/** Whether some value of the stored options' `headers` is still in plain text (stored before they were encrypted). */
export function hasPlainHeaders(options: Record<string, unknown>): boolean {
  const headers = options.headers;
  if (typeof headers !== 'object' || headers === null) return false;
  return Object.values(headers).some((value) => typeof value === 'string' && !SecretCipher.isSealed(value));
}

/**
 * The adapter configuration of a stored provider, its key and header values decrypted
 * (a header value stored before they were encrypted is taken as it is).
 * @throws SecretDecryptionError when a credential cannot be decrypted; Error on invalid stored options.
 */
export function storedProviderConfig(provider: ProviderWithSecret, cipher: SecretCipher): ProviderConfig {
  const opened = mapHeaders(provider.options, (value) =>
    SecretCipher.isSealed(value) ? cipher.decrypt(value) : value,
  );
  const options = providerOptionsSchema.safeParse(opened);
  if (!options.success) throw new Error(`its stored options are invalid (${options.error.issues[0]?.message})`);
  return {
    name: provider.name,
    kind: provider.kind,
    baseUrl: provider.baseUrl ?? undefined,
    apiKey: provider.apiKeyEncrypted === null ? undefined : cipher.decrypt(provider.apiKeyEncrypted),
    models: provider.models,
    timeoutMs: provider.timeoutMs ?? undefined,
    options: options.data,
  };
}

/**
 * Checks that an adapter can be built from `config` (a kind's required settings are
 * present) without keeping it. @throws GatewayError(invalid_request_error) naming the setting
 */
export async function assertBuildable(config: ProviderConfig): Promise<void> {
  await createProviderAdapter(config).close();
}
