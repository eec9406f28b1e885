import { z } from 'zod';
import { baseUrlProblem, type AppConfig, type SecretCipher } from '@app/config';
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

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'must be an HTTP header name');

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
      .optional(),
    headers: z.record(headerName, z.string().max(4096).regex(HEADER_VALUE, HEADER_VALUE_MESSAGE)).optional(),
    nativeTools: z.boolean().optional(),
    nativeJsonSchema: z.boolean().optional(),
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

/**
 * The adapter configuration of a stored provider, its key decrypted.
 * @throws SecretDecryptionError when the key cannot be decrypted; Error on invalid stored options.
 */
export function storedProviderConfig(provider: ProviderWithSecret, cipher: SecretCipher): ProviderConfig {
  const options = providerOptionsSchema.safeParse(provider.options);
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
