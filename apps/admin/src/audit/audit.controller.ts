import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AdminGuard, Roles } from '@app/auth';
import { type AuditRecord, AuditRepository } from '@app/db';

const AuditQuery = z.object({
  actorId: z.string().max(100).optional(),
  action: z.string().max(100).optional().describe('e.g. team.create, key.revoke'),
  targetType: z.string().max(50).optional().describe('team, user, api_key'),
  targetId: z.string().max(100).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, 'must be a nextCursor value')
    .optional(),
});
type AuditQuery = z.infer<typeof AuditQuery>;

const AuditEntryResponse = z
  .object({
    id: z.string(),
    createdAt: z.string(),
    actorType: z.enum(['user', 'master_key', 'system']),
    actorId: z.string().nullable(),
    action: z.string(),
    targetType: z.string(),
    targetId: z.string().nullable(),
    changes: z.record(z.string(), z.unknown()).nullable(),
    ip: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

const AuditPage = z
  .object({
    data: z.array(AuditEntryResponse),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next (older) page'),
  })
  .meta({ id: 'AuditPage' });
type AuditPage = z.infer<typeof AuditPage>;

function toEntry(record: AuditRecord): AuditPage['data'][number] {
  return { ...record, createdAt: record.createdAt.toISOString() };
}

/** `GET /api/audit`: who changed what and when, newest first (admins). */
@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Roles('admin')
@Controller('api/audit')
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  @Get()
  @ApiOperation({ summary: 'Audit log of admin writes, newest first, filtered, with cursor pagination' })
  @ApiOkResponse({ standardSchema: AuditPage })
  async list(@Query({ schema: AuditQuery }) query: AuditQuery): Promise<AuditPage> {
    const rows = await this.audit.list({
      actorId: query.actorId,
      action: query.action,
      targetType: query.targetType,
      targetId: query.targetId,
      since: query.since ? new Date(query.since) : undefined,
      until: query.until ? new Date(query.until) : undefined,
      before: query.cursor,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    return { data: page.map(toEntry), nextCursor: rows.length > query.limit ? page[page.length - 1].id : null };
  }
}
