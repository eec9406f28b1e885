import type { IncomingMessage, ServerResponse } from 'node:http';
import { Body, Controller, HttpCode, type OnModuleInit, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '@app/auth';
import {
  ChatPipeline,
  CompletionPipeline,
  chatRequestSchema,
  completionRequestSchema,
  embeddingRequestSchema,
  requestContext,
} from '@app/completions';
import type { ChatRequest, CompletionRequest, EmbeddingRequest } from '@app/contracts';
import { sendJson } from '@app/server';
import { HotApi } from './hot-api';
import { writeSse } from './stream-writer';

/**
 * OpenAI's generation endpoints, exactly as OpenAI routes them; served on the
 * hot path ({@link HotApi}) too, by the same methods.
 */
@ApiTags('openai')
@ApiBearerAuth()
@ApiSecurity('x-api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1')
export class ChatCompletionsController implements OnModuleInit {
  constructor(
    private readonly chat: ChatPipeline,
    private readonly completions: CompletionPipeline,
    private readonly hot: HotApi,
  ) {}

  onModuleInit(): void {
    this.hot.post<ChatRequest>('/v1/chat/completions', chatRequestSchema, (body, req, res) =>
      this.chatCompletions(body, req, res),
    );
    this.hot.post<CompletionRequest>('/v1/completions', completionRequestSchema, (body, req, res) =>
      this.legacyCompletions(body, req, res),
    );
    this.hot.post<EmbeddingRequest>('/v1/embeddings', embeddingRequestSchema, (body, req, res) =>
      this.embeddings(body, req, res),
    );
  }

  @Post('chat/completions')
  @HttpCode(200)
  @ApiOperation({ summary: 'Chat completion (JSON, or SSE with `stream: true`) on any configured provider' })
  @ApiOkResponse({ description: 'A chat.completion object, or an SSE stream of chat.completion.chunk events' })
  async chatCompletions(
    @Body({ schema: chatRequestSchema }) body: ChatRequest,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const ctx = requestContext(req, res, 'chat');
    if (body.stream) {
      const { headers, chunks } = await this.chat.stream(body, ctx);
      return writeSse(res, headers, chunks, 'openai');
    }
    const { value, headers } = await this.chat.complete(body, ctx);
    sendJson(res, 200, value, headers);
  }

  @Post('completions')
  @HttpCode(200)
  @ApiOperation({ summary: 'Legacy text completion (JSON or SSE)' })
  async legacyCompletions(
    @Body({ schema: completionRequestSchema }) body: CompletionRequest,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const ctx = requestContext(req, res, 'completions');
    if (body.stream) {
      const { headers, chunks } = await this.completions.stream(body, ctx);
      return writeSse(res, headers, chunks, 'openai');
    }
    const { value, headers } = await this.completions.complete(body, ctx);
    sendJson(res, 200, value, headers);
  }

  @Post('embeddings')
  @HttpCode(200)
  @ApiOperation({ summary: 'Embeddings' })
  async embeddings(
    @Body({ schema: embeddingRequestSchema }) body: EmbeddingRequest,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const { value, headers } = await this.completions.embed(body, requestContext(req, res, 'embeddings'));
    sendJson(res, 200, value, headers);
  }
}
