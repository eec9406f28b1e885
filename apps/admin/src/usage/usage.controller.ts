import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminGuard, CurrentPrincipal, type Principal, TeamScope } from '@app/auth';
import { type UsageSummary, UsageReports } from '@app/usage';
import {
  UsageRecordsQuery,
  UsageRecordsResponse,
  UsageSummaryQuery,
  UsageSummaryResponse,
  toRecordResponse,
  toRecordsQuery,
  toSummaryQuery,
} from './dto/usage.dto';

@ApiTags('usage')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/usage')
export class UsageController {
  constructor(private readonly reports: UsageReports) {}

  @Get('summary')
  @ApiOperation({
    summary:
      'Totals and a time series (hour or day), optionally grouped by model, provider, team, key or agent; members see their team',
  })
  @ApiOkResponse({ standardSchema: UsageSummaryResponse })
  @ApiBadRequestResponse({ description: 'Bad range, unknown group-by or filter' })
  summary(
    @CurrentPrincipal() principal: Principal,
    @Query({ schema: UsageSummaryQuery }) query: UsageSummaryQuery,
  ): Promise<UsageSummary> {
    return this.reports.summary(toSummaryQuery(query, TeamScope.forListing(principal, query.teamId)));
  }

  @Get('records')
  @ApiOperation({
    summary:
      'The request log, newest first, filtered by time, team, key, provider, model and status, paginated by cursor',
  })
  @ApiOkResponse({ standardSchema: UsageRecordsResponse })
  @ApiBadRequestResponse({ description: 'Bad range, filter, page size or cursor' })
  async records(
    @CurrentPrincipal() principal: Principal,
    @Query({ schema: UsageRecordsQuery }) query: UsageRecordsQuery,
  ): Promise<UsageRecordsResponse> {
    const page = await this.reports.records(toRecordsQuery(query, TeamScope.forListing(principal, query.teamId)));
    return { data: page.data.map(toRecordResponse), nextCursor: page.nextCursor };
  }
}
