import { Module } from '@nestjs/common';
import { GatewayAuthModule } from '@app/auth';
import { MeController } from './me.controller';

@Module({ imports: [GatewayAuthModule], controllers: [MeController] })
export class MeModule {}
