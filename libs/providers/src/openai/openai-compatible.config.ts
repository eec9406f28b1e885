import { GatewayError } from '@app/contracts';
import OpenAI, { AzureOpenAI, type ClientOptions } from 'openai';
import type { Agent } from 'undici';
import type { ProviderCapabilities, ProviderConfig, ProviderKind, ReasoningField } from '../provider.interface';
import { DEFAULT_SDK_TIMEOUT_MS } from '../shared/call-scope';
import { joinUrl, recordingFetch } from '../shared/http';
import { type CapabilitiesOf, capabilitiesByModel } from '../shared/model-capabilities';

/** The kinds served by the OpenAI-compatible adapter. */
export type OpenAIFlavor = Extract<ProviderKind, 'openai' | 'openai-compatible' | 'gemini' | 'azure-openai' | 'ollama'>;

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const DEFAULT_GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta/openai';
export const DEFAULT_OLLAMA_HOST = 'http://localhost:11434';
/** Azure OpenAI data-plane GA version used when `options.apiVersion` is unset. */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

export interface OpenAIEndpoint {
  flavor: OpenAIFlavor;
  /** What the SDK is pointed at. */
  baseURL: string;
  /** Ollama's native API root (`/api/tags`, `/api/version`). */
  ollamaHost?: string;
  /**
   * Azure's v1 API (`https://NAME.openai.azure.com/openai/v1`): OpenAI's paths with
   * the deployment as the body's `model`, and no `api-version`.
   */
  azureV1?: boolean;
}

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

function requireSetting(config: ProviderConfig, value: string | undefined, param: 'baseUrl' | 'apiKey'): string {
  if (value) return value;
  throw new GatewayError('invalid_request_error', `provider '${config.name}' (${config.kind}) needs ${param}`, {
    param,
  });
}

export function resolveEndpoint(config: ProviderConfig, flavor: OpenAIFlavor): OpenAIEndpoint {
  switch (flavor) {
    case 'openai':
      return { flavor, baseURL: trimSlashes(config.baseUrl ?? DEFAULT_OPENAI_BASE_URL) };
    case 'gemini':
      return { flavor, baseURL: trimSlashes(config.baseUrl ?? DEFAULT_GEMINI_BASE_URL) };
    case 'openai-compatible':
      return { flavor, baseURL: trimSlashes(requireSetting(config, config.baseUrl, 'baseUrl')) };
    case 'ollama': {
      const host = trimSlashes(config.baseUrl ?? DEFAULT_OLLAMA_HOST).replace(/\/v1$/, '');
      return { flavor, baseURL: joinUrl(host, 'v1'), ollamaHost: host };
    }
    case 'azure-openai': {
      const resource = trimSlashes(requireSetting(config, config.baseUrl, 'baseUrl'));
      if (/\/openai\/v1$/i.test(resource)) return { flavor, baseURL: resource, azureV1: true };
      if (/\/deployments(\/|$)/i.test(URL.canParse(resource) ? new URL(resource).pathname : resource)) {
        throw new GatewayError(
          'invalid_request_error',
          `provider '${config.name}' (azure-openai): baseUrl is the resource (https://NAME.openai.azure.com) or its ` +
            'v1 API (…/openai/v1), not a deployment: deployments are named as models, or in options.deployments',
          { param: 'baseUrl' },
        );
      }
      return { flavor, baseURL: resource.endsWith('/openai') ? resource : joinUrl(resource, 'openai') };
    }
  }
}

/** The kinds whose configuration says what their models can do (`options.nativeTools`...): any server may be behind them. */
const declaresCapabilities = (flavor: OpenAIFlavor): boolean => flavor === 'ollama' || flavor === 'openai-compatible';

/** See `ProviderCapabilities`; Ollama and generic servers can be told they lack tools or schemas. */
export function openAICapabilities(config: ProviderConfig, flavor: OpenAIFlavor): ProviderCapabilities {
  const declared = declaresCapabilities(flavor);
  const reasoningHistory = declared ? reasoningHistoryOf(config) : undefined;
  return {
    tools: declared ? config.options?.nativeTools !== false : true,
    jsonSchema: declared ? config.options?.nativeJsonSchema !== false : true,
    embeddings: true,
    legacyCompletions: flavor !== 'gemini',
    ...(reasoningHistory ? { reasoningHistory } : {}),
  };
}

/** `options.reasoningHistory`, or DeepSeek's own field for its API (whose thinking mode requires it). */
function reasoningHistoryOf(config: ProviderConfig): ReasoningField | undefined {
  if (config.options?.reasoningHistory) return config.options.reasoningHistory;
  return config.baseUrl && URL.canParse(config.baseUrl) && new URL(config.baseUrl).hostname === 'api.deepseek.com'
    ? 'reasoning_content'
    : undefined;
}

/** `capabilities` per model, with the overrides of `options.models` where the kind reads them. */
export function openAIModelCapabilities(
  config: ProviderConfig,
  flavor: OpenAIFlavor,
  capabilities: ProviderCapabilities,
): CapabilitiesOf {
  return capabilitiesByModel(capabilities, declaresCapabilities(flavor) ? config.options?.models : undefined);
}

/**
 * One SDK client per provider: no SDK retries (the router owns them), the provider's
 * keep-alive pool as dispatcher, and no environment lookups (every option explicit).
 */
export function createOpenAIClient(config: ProviderConfig, endpoint: OpenAIEndpoint, dispatcher: Agent): OpenAI {
  const common: ClientOptions = {
    baseURL: endpoint.baseURL,
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: config.timeoutMs ?? DEFAULT_SDK_TIMEOUT_MS,
    fetch: recordingFetch,
    fetchOptions: { dispatcher },
    logLevel: 'off',
    defaultHeaders: { ...(config.apiKey ? {} : { Authorization: null }), ...config.options?.headers },
  };
  if (endpoint.flavor === 'azure-openai') {
    const credentials = azureCredentials(config);
    // The v1 API is OpenAI's: its client, with the key as Azure reads it.
    if (endpoint.azureV1) {
      const headers = 'apiKey' in credentials ? { 'api-key': credentials.apiKey } : {};
      return new OpenAI({
        ...common,
        apiKey: 'unused',
        defaultHeaders: { Authorization: null, ...headers, ...config.options?.headers },
      });
    }
    return new AzureOpenAI({
      ...common,
      apiKey: 'apiKey' in credentials ? credentials.apiKey : undefined,
      azureADTokenProvider: 'apiKey' in credentials ? undefined : credentials.azureADTokenProvider,
      apiVersion: config.options?.apiVersion ?? DEFAULT_AZURE_API_VERSION,
    });
  }
  // The SDK insists on a key; keyless servers (Ollama, local vLLM) get none sent.
  return new OpenAI({ ...common, apiKey: config.apiKey ?? 'unused' });
}

/**
 * Azure's credential: the key (`api-key`), or, without one, a Microsoft Entra ID token
 * configured as an `Authorization: Bearer …` header (handed to the SDK as its token).
 */
function azureCredentials(
  config: ProviderConfig,
): { apiKey: string } | { azureADTokenProvider: () => Promise<string> } {
  if (config.apiKey) return { apiKey: config.apiKey };
  const header = Object.entries(config.options?.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization');
  const token = header && /^Bearer\s+(\S+)$/i.exec(header[1])?.[1];
  if (token) return { azureADTokenProvider: () => Promise.resolve(token) };
  return { apiKey: requireSetting(config, undefined, 'apiKey') };
}

/** The model name sent upstream: Azure addresses deployments, everyone else models. */
export function upstreamModel(config: ProviderConfig, flavor: OpenAIFlavor, model: string): string {
  if (flavor === 'azure-openai') return config.options?.deployments?.[model] ?? model;
  return model;
}
