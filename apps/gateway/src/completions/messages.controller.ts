import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ArgumentsHost,
  Body,
  Catch,
  Controller,
  type ExceptionFilter,
  HttpCode,
  type OnModuleInit,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '@app/auth';
import {
  MessagesPipeline,
  anthropicCountTokensSchema,
  anthropicMessagesSchema,
  requestContext,
  withClientBetas,
} from '@app/completions';
import type { AnthropicCountTokensRequest, AnthropicMessageRequest, GatewayError } from '@app/contracts';
import { failureOf, sendError, sendJson } from '@app/server';
import { HotApi } from './hot-api';
import { anthropicErrorBody, writeSse } from './stream-writer';

/** Errors of the Messages API in Anthropic's shape (which still carries OpenAI's fields). */
@Catch()
class AnthropicErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<IncomingMessage>();
    const error = failureOf(exception, req);
    sendError(http.getResponse<ServerResponse>(), error, anthropicErrorBody(error, req));
  }
}

/** The Messages API's routes, spelt as Express matches them (any case, a trailing slash). */
const MESSAGES_ROUTE = /^\/v1\/messages(?:\/count_tokens)?\/?(?:\?|$)/i;

/**
 * Anthropic's error body for a Messages API request failing before its controller
 * (the body parser's 400, 413, 415 on the full stack), as the hot path and
 * {@link AnthropicErrorFilter} answer; `undefined` for every other route.
 */
export function messagesErrorBody(error: GatewayError, req: IncomingMessage): object | undefined {
  return MESSAGES_ROUTE.test(req.url ?? '') ? anthropicErrorBody(error, req) : undefined;
}

/**
 * Anthropic's Messages API inbound, so Anthropic SDK clients reach every
 * provider too; served on the hot path ({@link HotApi}) too, by the same method.
 */
@ApiTags('anthropic')
@ApiBearerAuth()
@ApiSecurity('x-api-key')
@UseGuards(ApiKeyGuard)
@UseFilters(AnthropicErrorFilter)
@Controller('v1')
export class MessagesController implements OnModuleInit {
  constructor(
    private readonly messages: MessagesPipeline,
    private readonly hot: HotApi,
  ) {}

  onModuleInit(): void {
    this.hot.post<AnthropicMessageRequest>(
      '/v1/messages',
      anthropicMessagesSchema,
      (body, req, res) => this.create(body, req, res),
      anthropicErrorBody,
    );
  }

  @Post('messages')
  @HttpCode(200)
  @ApiOperation({ summary: 'Anthropic Messages API (JSON, or its SSE event sequence with `stream: true`)' })
  async create(
    @Body({ schema: anthropicMessagesSchema }) body: AnthropicMessageRequest,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const ctx = requestContext(req, res, 'messages');
    body = withClientBetas(body, req.headers['anthropic-beta']);
    if (body.stream) {
      const { headers, events } = await this.messages.stream(body, ctx);
      return writeSse(res, headers, events, 'anthropic');
    }
    const { value, headers } = await this.messages.create(body, ctx);
    sendJson(res, 200, value, headers);
  }

  @Post('messages/count_tokens')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Anthropic token counting: the input tokens of a Messages request',
    description:
      'Counted by the upstream for Anthropic providers; estimated (~4 characters a token) for the others, ' +
      'or when the upstream cannot count. The `x-gateway-token-count` header says which: `upstream` or `estimated`.',
  })
  async countTokens(
    @Body({ schema: anthropicCountTokensSchema }) body: AnthropicCountTokensRequest,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const ctx = requestContext(req, res, 'messages');
    const { value, headers } = await this.messages.countTokens(
      withClientBetas(body, req.headers['anthropic-beta']),
      ctx,
    );
    sendJson(res, 200, value, headers);
  }
}
