import {
  type ArgumentsHost,
  Body,
  Catch,
  Controller,
  type ExceptionFilter,
  HttpCode,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiKeyGuard } from '@app/auth';
import { MessagesPipeline, anthropicMessagesSchema, requestContext } from '@app/completions';
import type { AnthropicMessageRequest } from '@app/contracts';
import { toGatewayError } from '@app/server';
import { anthropicErrorBody, writeSse } from './stream-writer';

/** Errors of the Messages API in Anthropic's shape (which still carries OpenAI's fields). */
@Catch()
class AnthropicErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const error = toGatewayError(exception, http.getRequest<Request>());
    const res = http.getResponse<Response>();
    if (res.headersSent) return void res.destroy();
    if (error.retryAfter !== undefined) res.setHeader('retry-after', String(Math.ceil(error.retryAfter)));
    for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
    res.status(error.status).json(anthropicErrorBody(error));
  }
}

/** Anthropic's Messages API inbound, so Anthropic SDK clients reach every provider too. */
@ApiTags('anthropic')
@ApiBearerAuth()
@ApiSecurity('x-api-key')
@UseGuards(ApiKeyGuard)
@UseFilters(AnthropicErrorFilter)
@Controller('v1')
export class MessagesController {
  constructor(private readonly messages: MessagesPipeline) {}

  @Post('messages')
  @HttpCode(200)
  @ApiOperation({ summary: 'Anthropic Messages API (JSON, or its SSE event sequence with `stream: true`)' })
  async create(
    @Body({ schema: anthropicMessagesSchema }) body: AnthropicMessageRequest,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const ctx = requestContext(req, res, 'messages');
    if (body.stream) {
      const { headers, events } = await this.messages.stream(body, ctx);
      return writeSse(res, headers, events, 'anthropic');
    }
    const { value, headers } = await this.messages.create(body, ctx);
    res.set(headers).json(value);
  }
}
