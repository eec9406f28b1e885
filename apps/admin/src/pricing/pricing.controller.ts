import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { z } from 'zod';
import { AdminGuard, AuditActor, Roles } from '@app/auth';
import type { AuditContext } from '@app/db';
import { PricingService } from '@app/usage';
import {
  CreatePriceBody,
  PriceResponse,
  ResolvePriceQuery,
  ResolvedPriceResponse,
  UpdatePriceBody,
  toPriceResponse,
} from './dto/pricing.dto';
import { PricingAdminService } from './pricing-admin.service';

@ApiTags('pricing')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/pricing')
export class PricingController {
  constructor(
    private readonly prices: PricingAdminService,
    private readonly pricing: PricingService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The price list (USD per million tokens); `*` entries are defaults' })
  @ApiOkResponse({ standardSchema: z.array(PriceResponse) })
  async list(): Promise<PriceResponse[]> {
    return (await this.prices.list()).map(toPriceResponse);
  }

  @Get('resolve')
  @ApiOperation({
    summary: 'Which entry prices a provider and model (exact, provider default, any-provider, then */*)',
  })
  @ApiOkResponse({ standardSchema: ResolvedPriceResponse })
  resolve(@Query({ schema: ResolvePriceQuery }) query: ResolvePriceQuery): ResolvedPriceResponse {
    const match = this.pricing.priceFor(query.provider, query.model);
    return {
      provider: query.provider,
      model: query.model,
      match: match
        ? {
            provider: match.provider,
            model: match.model,
            inputPerMTok: match.inputPerMTok,
            outputPerMTok: match.outputPerMTok,
            cachedInputPerMTok: match.cachedInputPerMTok,
          }
        : null,
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One price entry' })
  @ApiOkResponse({ standardSchema: PriceResponse })
  @ApiNotFoundResponse({ description: 'No such price' })
  async get(@Param('id') id: string): Promise<PriceResponse> {
    return toPriceResponse(await this.prices.get(id));
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Add a price; applies to new requests on every replica at once' })
  @ApiCreatedResponse({ standardSchema: PriceResponse })
  @ApiBadRequestResponse({ description: 'Negative, non-numeric or over-precise price; bad provider or model' })
  @ApiConflictResponse({ description: 'This provider and model already have a price' })
  async create(
    @Body({ schema: CreatePriceBody }) body: CreatePriceBody,
    @AuditActor() actor: AuditContext,
  ): Promise<PriceResponse> {
    return toPriceResponse(await this.prices.create(body, actor));
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Change a price' })
  @ApiOkResponse({ standardSchema: PriceResponse })
  @ApiNotFoundResponse({ description: 'No such price' })
  @ApiConflictResponse({ description: 'This provider and model already have a price' })
  async update(
    @Param('id') id: string,
    @Body({ schema: UpdatePriceBody }) body: UpdatePriceBody,
    @AuditActor() actor: AuditContext,
  ): Promise<PriceResponse> {
    return toPriceResponse(await this.prices.update(id, body, actor));
  }

  @Delete(':id')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a price (the model falls back to its provider default, or costs nothing)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such price' })
  async delete(@Param('id') id: string, @AuditActor() actor: AuditContext): Promise<void> {
    await this.prices.delete(id, actor);
  }
}
