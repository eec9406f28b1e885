import type { IncomingMessage, ServerResponse } from 'node:http';
import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { ApiKeyGuard } from '@app/auth';
import { StructuredPipeline, requestContext, structuredRequestSchema } from '@app/completions';
import type { ChatRequest } from '@app/contracts';
import { sendJson } from '@app/server';

type StructuredBody = z.infer<typeof structuredRequestSchema>;

/** JSON that conforms to a JSON Schema, from any provider. */
@ApiTags('gateway')
@ApiBearerAuth()
@ApiSecurity('x-api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/generate')
export class StructuredController {
  constructor(private readonly structured: StructuredPipeline) {}

  @Post('structured')
  @HttpCode(200)
  @ApiOperation({ summary: 'Generate a JSON value validated against a JSON Schema, on any provider' })
  async generate(
    @Body({ schema: structuredRequestSchema }) body: StructuredBody,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const messages = (body.messages ?? [{ role: 'user', content: body.prompt ?? '' }]) as ChatRequest['messages'];
    const { value, headers } = await this.structured.generate(
      { ...body, messages },
      requestContext(req, res, 'structured'),
    );
    sendJson(res, 200, value, headers);
  }
}
