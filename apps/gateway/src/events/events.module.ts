import { Module } from '@nestjs/common';
import { EventStreamService } from './event-stream.service';
import { EventsController } from './events.controller';

/** `GET /v1/events/stream`. */
@Module({ controllers: [EventsController], providers: [EventStreamService], exports: [EventStreamService] })
export class EventsModule {}
