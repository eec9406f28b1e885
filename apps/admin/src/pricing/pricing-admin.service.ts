import { Injectable } from '@nestjs/common';
import { GatewayError } from '@app/contracts';
import { type AuditContext, DuplicateError, type PriceRecord, PricingRepository } from '@app/db';
import { PricingService } from '@app/usage';
import { type CreatePriceBody, type UpdatePriceBody, decimal } from './dto/pricing.dto';

/** Price list edits; each one refreshes the price cache of every app and replica. */
@Injectable()
export class PricingAdminService {
  constructor(
    private readonly prices: PricingRepository,
    private readonly pricing: PricingService,
  ) {}

  list(): Promise<PriceRecord[]> {
    return this.prices.listPrices();
  }

  async get(id: string): Promise<PriceRecord> {
    return found(await this.prices.findPrice(id));
  }

  async create(body: CreatePriceBody, audit: AuditContext): Promise<PriceRecord> {
    const created = await conflicts(() =>
      this.prices.createPrice(
        {
          provider: body.provider,
          model: body.model,
          inputPerMTok: decimal(body.inputPerMTok),
          outputPerMTok: decimal(body.outputPerMTok),
          cachedInputPerMTok: decimal(body.cachedInputPerMTok),
        },
        audit,
      ),
    );
    await this.pricing.changed();
    return created;
  }

  async update(id: string, body: UpdatePriceBody, audit: AuditContext): Promise<PriceRecord> {
    const updated = found(
      await conflicts(() =>
        this.prices.updatePrice(
          id,
          {
            provider: body.provider,
            model: body.model,
            inputPerMTok: body.inputPerMTok === undefined ? undefined : decimal(body.inputPerMTok),
            outputPerMTok: body.outputPerMTok === undefined ? undefined : decimal(body.outputPerMTok),
            cachedInputPerMTok: decimal(body.cachedInputPerMTok),
          },
          audit,
        ),
      ),
    );
    await this.pricing.changed();
    return updated;
  }

  async delete(id: string, audit: AuditContext): Promise<void> {
    found(await this.prices.deletePrice(id, audit));
    await this.pricing.changed();
  }
}

function found<T>(value: T | null): T {
  if (value === null) throw new GatewayError('not_found', 'Price not found.');
  return value;
}

async function conflicts<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof DuplicateError) {
      throw new GatewayError('conflict', 'This provider and model already have a price: change that entry instead.', {
        param: 'model',
      });
    }
    throw error;
  }
}
