import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  assertBuildable,
  CatalogChangeBus,
  discoverModels,
  environmentProviders,
  hasPlainHeaders,
  openHeaderValue,
  type ProbeResult,
  probeProvider,
  type ProviderStatus,
  ProviderStatusService,
  sealHeaders,
  storedProviderConfig,
} from '@app/completions';
import { APP_CONFIG, type AppConfig, SecretCipher, SecretDecryptionError } from '@app/config';
import { GatewayError } from '@app/contracts';
import {
  type AuditContext,
  DuplicateError,
  type ProviderFields,
  type ProviderRecord,
  ProviderRepository,
  REDACTED_HEADER_VALUE,
} from '@app/db';
import type { ModelInfo, ProviderConfig } from '@app/providers';
import type { CreateProviderBody, UpdateProviderBody } from './dto/provider.dto';

const ENV_PREFIX = 'env:';

/** A provider as the admin API shows it: stored, or configured through the environment (read-only). */
export type AdminProvider =
  | { source: 'database'; record: ProviderRecord }
  | { source: 'environment'; config: ProviderConfig; overridden: boolean };

const notFound = () => new GatewayError('not_found', 'Provider not found.');
const duplicate = (name: string | undefined) =>
  new GatewayError('conflict', `A provider named ${JSON.stringify(name)} already exists.`, { param: 'name' });
const readOnly = (name: string) =>
  new GatewayError(
    'conflict',
    `The provider "${name}" is configured through the environment and is read-only here; change its variables, or create a provider of the same name to replace it.`,
  );

/**
 * Providers for the admin API: validated, credentials (the API key, header values)
 * encrypted, and every change announced so registries (this process at once,
 * replicas via Redis) reload before the response.
 */
@Injectable()
export class ProvidersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ProvidersService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly providers: ProviderRepository,
    private readonly cipher: SecretCipher,
    private readonly bus: CatalogChangeBus,
    private readonly status: ProviderStatusService,
  ) {}

  /** Header values stored in plain text (before they were encrypted) are encrypted in place at boot. */
  async onApplicationBootstrap(): Promise<void> {
    const plain = (await this.providers.listWithSecrets()).filter((row) => hasPlainHeaders(row.options));
    for (const row of plain) {
      const options = sealHeaders(row.options, this.cipher, true);
      await this.providers.update(row.id, { options });
    }
    if (plain.length > 0) {
      this.logger.log(`Encrypted the stored header values of ${plain.length} provider(s)`);
      await this.bus.publish({ scope: 'providers' });
    }
  }

  async list(): Promise<AdminProvider[]> {
    const stored = await this.providers.list();
    const names = new Set(stored.map((p) => p.name));
    return [
      ...stored.map((record): AdminProvider => ({ source: 'database', record })),
      ...environmentProviders(this.config).map((config): AdminProvider => ({
        source: 'environment',
        config,
        overridden: names.has(config.name),
      })),
    ].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  }

  async get(id: string): Promise<AdminProvider> {
    if (id.startsWith(ENV_PREFIX)) {
      const config = environmentProviders(this.config).find((p) => p.name === id.slice(ENV_PREFIX.length));
      if (!config) throw notFound();
      const overridden = (await this.providers.list()).some((p) => p.name === config.name);
      return { source: 'environment', config, overridden };
    }
    const record = await this.providers.findById(id);
    if (!record) throw notFound();
    return { source: 'database', record };
  }

  async create(body: CreateProviderBody, actor: AuditContext): Promise<ProviderRecord> {
    const options = keepStoredHeaders(body.options ?? {}, {});
    const fields: ProviderFields = {
      name: body.name,
      kind: body.kind,
      baseUrl: body.baseUrl ?? null,
      apiKeyEncrypted: body.apiKey ? this.cipher.encrypt(body.apiKey) : null,
      enabled: body.enabled ?? true,
      models: unique(body.models ?? []),
      timeoutMs: body.timeoutMs ?? null,
      options: sealHeaders(options, this.cipher),
    };
    // Checked with the header values in clear (an Authorization header may stand for the key), stored sealed.
    await assertBuildable(adapterConfig({ ...fields, options }, body.apiKey ?? undefined));
    let record: ProviderRecord;
    try {
      record = await this.providers.create(fields, actor);
    } catch (error) {
      if (error instanceof DuplicateError) throw duplicate(body.name);
      throw error;
    }
    await this.bus.publish({ scope: 'providers' });
    return record;
  }

  async update(id: string, body: UpdateProviderBody, actor: AuditContext): Promise<ProviderRecord> {
    const current = await this.stored(id);
    const patch = toPatch(body, (key) => this.cipher.encrypt(key));
    const stored = this.openedOptions(current.options);
    const options = patch.options
      ? keepStoredHeaders(patch.options, stored.options, stored.unreadable)
      : stored.options;
    if (patch.options) patch.options = sealHeaders(options, this.cipher);
    const merged = { ...current, ...patch, options };
    // Buildability needs to know a key is there, not what it is: the stored one stays encrypted.
    const key = body.apiKey === undefined ? (current.hasApiKey ? 'stored' : undefined) : (body.apiKey ?? undefined);
    await assertBuildable(adapterConfig(merged, key));
    let record: ProviderRecord | null;
    try {
      record = await this.providers.update(id, patch, actor);
    } catch (error) {
      if (error instanceof DuplicateError) throw duplicate(body.name);
      throw error;
    }
    if (!record) throw notFound();
    await this.bus.publish({ scope: 'providers' });
    return record;
  }

  async remove(id: string, actor: AuditContext): Promise<void> {
    const current = await this.stored(id);
    // Routes naming a provider the environment also defines fall back to that one.
    const inEnvironment = environmentProviders(this.config).some((p) => p.name === current.name);
    const result = await this.providers.delete(id, { keepAsReference: inEnvironment }, actor);
    if (result.status === 'not_found') throw notFound();
    if (result.status === 'in_use') {
      throw new GatewayError(
        'conflict',
        `The provider "${current.name}" is used by route${result.routes.length > 1 ? 's' : ''} ${result.routes.map((r) => `"${r}"`).join(', ')}: remove it from them first.`,
      );
    }
    await this.bus.publish({ scope: 'providers' });
  }

  /** Health check plus a short model listing, against the stored configuration. */
  async test(id: string): Promise<ProbeResult> {
    return probeProvider(await this.callableConfig(id));
  }

  /** Asks the upstream for its models now. */
  async discover(id: string): Promise<{ provider: string; configured: string[]; discovered: ModelInfo[] }> {
    const config = await this.callableConfig(id);
    const discovered = await discoverModels(config);
    // The gateways discover the list again themselves, this process's at once, the other replicas through Redis.
    await this.bus.publish({ scope: 'models', provider: config.name });
    return { provider: config.name, configured: config.models ?? [], discovered };
  }

  /** Health and problems of the provider as this process runs it (none for a replaced environment one). */
  statusOf(provider: AdminProvider): ProviderStatus | undefined {
    if (provider.source === 'environment' && provider.overridden) return undefined;
    const status = this.status.get(nameOf(provider));
    return status?.source === provider.source ? status : undefined;
  }

  /**
   * Stored options with their header values decrypted, and the names of those that cannot
   * be (under another SECRET_KEY): left sealed, to be sent again rather than kept.
   */
  private openedOptions(options: Record<string, unknown>): { options: Record<string, unknown>; unreadable: string[] } {
    const headers = options.headers;
    if (typeof headers !== 'object' || headers === null) return { options, unreadable: [] };
    const unreadable: string[] = [];
    const opened: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(headers)) {
      try {
        opened[name] = typeof value === 'string' ? openHeaderValue(value, this.cipher) : value;
      } catch (error) {
        if (!(error instanceof SecretDecryptionError)) throw error;
        opened[name] = value;
        unreadable.push(name.toLowerCase());
      }
    }
    return { options: { ...options, headers: opened }, unreadable };
  }

  private async stored(id: string): Promise<ProviderRecord> {
    if (id.startsWith(ENV_PREFIX)) {
      const name = id.slice(ENV_PREFIX.length);
      if (environmentProviders(this.config).some((p) => p.name === name)) throw readOnly(name);
      throw notFound();
    }
    const record = await this.providers.findById(id);
    if (!record) throw notFound();
    return record;
  }

  private async callableConfig(id: string): Promise<ProviderConfig> {
    if (id.startsWith(ENV_PREFIX)) {
      const provider = await this.get(id);
      if (provider.source === 'environment') return provider.config;
    }
    const row = await this.providers.findWithSecretById(id);
    if (!row) throw notFound();
    try {
      return storedProviderConfig(row, this.cipher);
    } catch (error) {
      const reason =
        error instanceof SecretDecryptionError
          ? 'its API key or header values cannot be decrypted (was SECRET_KEY changed?); set them again'
          : (error as Error).message;
      throw new GatewayError('conflict', `The provider "${row.name}" cannot be used: ${reason}.`);
    }
  }
}

function nameOf(provider: AdminProvider): string {
  return provider.source === 'database' ? provider.record.name : provider.config.name;
}

function unique(models: string[]): string[] {
  return [...new Set(models)];
}

/**
 * Header values are shown as {@link REDACTED_HEADER_VALUE}; sent back as that (the
 * options as read, with another setting changed), they keep the stored value.
 * @throws GatewayError(invalid_request_error) for such a value with none stored;
 *   GatewayError(conflict) for one whose stored value cannot be decrypted (`unreadable`)
 */
function keepStoredHeaders(
  options: Record<string, unknown>,
  stored: Record<string, unknown>,
  unreadable: readonly string[] = [],
): Record<string, unknown> {
  const headers = options.headers as Record<string, string> | undefined;
  if (!headers || !Object.values(headers).includes(REDACTED_HEADER_VALUE)) return options;
  const storedHeaders = Object.entries((stored.headers ?? {}) as Record<string, string>);
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== REDACTED_HEADER_VALUE) {
      kept[name] = value;
      continue;
    }
    const previous = storedHeaders.find(([storedName]) => storedName.toLowerCase() === name.toLowerCase());
    if (previous && unreadable.includes(name.toLowerCase())) {
      const param = `options.headers.${name}`;
      throw new GatewayError(
        'conflict',
        `${param}: the stored value cannot be decrypted (was SECRET_KEY changed?); send its value again.`,
        { param },
      );
    }
    if (!previous) {
      const param = `options.headers.${name}`;
      throw new GatewayError(
        'invalid_request_error',
        `${param}: "${REDACTED_HEADER_VALUE}" keeps the stored value of a header, and this one has none; send its value.`,
        { param },
      );
    }
    kept[name] = previous[1];
  }
  return { ...options, headers: kept };
}

function toPatch(body: UpdateProviderBody, encrypt: (key: string) => string): Partial<ProviderFields> {
  const patch: Partial<ProviderFields> = {};
  if (body.name !== undefined) patch.name = body.name;
  if (body.kind !== undefined) patch.kind = body.kind;
  if (body.baseUrl !== undefined) patch.baseUrl = body.baseUrl;
  if (body.apiKey !== undefined) patch.apiKeyEncrypted = body.apiKey === null ? null : encrypt(body.apiKey);
  if (body.enabled !== undefined) patch.enabled = body.enabled;
  if (body.models !== undefined) patch.models = unique(body.models);
  if (body.timeoutMs !== undefined) patch.timeoutMs = body.timeoutMs;
  if (body.options !== undefined) patch.options = body.options;
  return patch;
}

function adapterConfig(
  fields: Pick<ProviderFields, 'name' | 'kind' | 'baseUrl' | 'models' | 'timeoutMs' | 'options'>,
  apiKey: string | undefined,
): ProviderConfig {
  return {
    name: fields.name,
    kind: fields.kind,
    baseUrl: fields.baseUrl ?? undefined,
    apiKey,
    models: fields.models,
    timeoutMs: fields.timeoutMs ?? undefined,
    options: fields.options,
  };
}
