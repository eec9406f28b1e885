import { Module } from '@nestjs/common';
import { StatusController } from './status.controller';

/** `GET /v1/status` (StatusService comes from the global UsageModule). */
@Module({ controllers: [StatusController] })
export class StatusModule {}
