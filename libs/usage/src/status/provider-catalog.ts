import { Injectable, Logger } from '@nestjs/common';

/** A provider's circuit breaker state (same words as the router's). */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** How a provider is doing, as the provider registry reports it. */
export interface ProviderStatus {
  /** Configured name: the `provider` in `provider/model`. */
  name: string;
  /** openai, anthropic, ollama, gemini, openai-compatible, azure-openai, mock. */
  kind: string;
  enabled: boolean;
  /** `up` answering, `degraded` failing some calls, `down` failing or circuit open, `unknown` not tried yet. */
  state: 'up' | 'degraded' | 'down' | 'disabled' | 'unknown';
  circuit?: CircuitState;
  /** Models it serves (provider-local ids). */
  models: string[];
}

export type ProviderSource = () => ProviderStatus[];

/**
 * The configured providers, as reported by whoever owns them (the provider
 * registry registers a source). Status, metric labels and price lookups read it;
 * until a source is registered it is empty.
 */
@Injectable()
export class ProviderCatalog {
  private readonly logger = new Logger('ProviderCatalog');
  private readonly sources = new Set<ProviderSource>();

  /** Adds a source; returns a function that removes it. */
  register(source: ProviderSource): () => void {
    this.sources.add(source);
    return () => void this.sources.delete(source);
  }

  list(): ProviderStatus[] {
    const out: ProviderStatus[] = [];
    for (const source of this.sources) {
      try {
        out.push(...source());
      } catch (error) {
        this.logger.warn(`A provider status source failed: ${(error as Error).message}`);
      }
    }
    return out;
  }

  /** The kind of a configured provider, for price lookups by kind. */
  kindOf(name: string): string | undefined {
    return this.list().find((p) => p.name === name)?.kind;
  }
}
