import { Module } from '@nestjs/common';
import { PricingModule } from '@app/usage';
import { PricingAdminService } from './pricing-admin.service';
import { PricingController } from './pricing.controller';

/** `/api/pricing`: the price list behind every request's cost. */
@Module({ imports: [PricingModule.forRoot()], controllers: [PricingController], providers: [PricingAdminService] })
export class PricingAdminModule {}
