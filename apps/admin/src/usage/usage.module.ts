import { Module } from '@nestjs/common';
import { UsageReportsModule } from '@app/usage';
import { UsageController } from './usage.controller';

/** `GET /api/usage/summary` and `GET /api/usage/records`. */
@Module({ imports: [UsageReportsModule], controllers: [UsageController] })
export class UsageAdminModule {}
