import { Module } from '@nestjs/common';
import { UsageReports } from './usage-reports.service';

/** Usage summaries and the request log, for the admin API. */
@Module({ providers: [UsageReports], exports: [UsageReports] })
export class UsageReportsModule {}
