import type { IncomingMessage, ServerResponse } from 'node:http';
import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiKeyGuard } from '@app/auth';
import { StructuredPipeline, requestContext } from '@app/completions';
import type { ChatRequest } from '@app/contracts';
import { sendJson } from '@app/server';

const structuredRequestSchema = z
  .strictObject({
    model: z.string().min(1),
    messages: z
      .array(z.looseObject({ role: z.enum(['system', 'developer', 'user', 'assistant']), content: z.unknown() }))
      .min(1)
      .optional(),
    prompt: z.string().min(1).optional(),
    schema: z.record(z.string(), z.unknown()),
    name: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{1,64}$/)
      .optional(),
    temperature: z.number().min(0).max(2).optional(),
    max_tokens: z.number().int().positive().optional(),
  })
  .refine((body) => body.messages || body.prompt, { message: 'Give either messages or prompt', path: ['messages'] })
  .meta({ id: 'StructuredGenerationRequest' });

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
