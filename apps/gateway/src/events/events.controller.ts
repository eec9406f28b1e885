import { Controller, Get, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { ApiKeyGuard, CurrentPrincipal, type Principal } from '@app/auth';
import { GatewayError } from '@app/contracts';
import type { GatewayEventType } from '@app/usage';
import { EventStreamService } from './event-stream.service';

const EVENT_TYPES = [
  'generation_started',
  'generation_completed',
  'provider_error',
  'fallback',
  'retry',
  'circuit_opened',
  'circuit_closed',
  'tool_started',
  'tool_completed',
] as const satisfies readonly GatewayEventType[];

function unknownTypes(list: string): string[] {
  return list
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '' && !(EVENT_TYPES as readonly string[]).includes(t));
}

export const EventStreamQuery = z
  .strictObject({
    types: z
      .string()
      .max(1000)
      .refine((list) => unknownTypes(list).length === 0, {
        error: (issue) =>
          `unknown event type ${unknownTypes(String(issue.input)).join(', ')}; use ${EVENT_TYPES.join(', ')}`,
      })
      .optional()
      .describe('Comma-separated event types to receive (default: all)'),
  })
  .meta({ id: 'EventStreamQuery' });
export type EventStreamQuery = z.infer<typeof EventStreamQuery>;

@ApiTags('observability')
@ApiBearerAuth()
@ApiSecurity('x-api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/events')
export class EventsController {
  constructor(private readonly streams: EventStreamService) {}

  @Get('stream')
  @ApiOperation({
    summary:
      'Live gateway events as SSE (admin or master key): generation_started, generation_completed, provider_error, fallback, retry, circuit_opened/closed, tool_started/completed',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'One `data:` line of JSON per event, `: heartbeat` comments in between; `types=a,b` filters',
  })
  stream(
    @CurrentPrincipal() principal: Principal,
    @Query({ schema: EventStreamQuery }) query: EventStreamQuery,
    @Res() res: Response,
  ): void {
    if (principal.role !== 'admin') {
      throw new GatewayError('permission_denied', 'The event stream needs an admin key or the master key.');
    }
    const types = query.types
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean) as GatewayEventType[] | undefined;
    this.streams.open(res, types?.length ? new Set(types) : null);
  }
}
