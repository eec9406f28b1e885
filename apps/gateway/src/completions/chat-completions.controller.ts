import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
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
import { writeSse } from './stream-writer';

/** OpenAI's generation endpoints, exactly as OpenAI routes them. */
@ApiTags('openai')
@ApiBearerAuth()
@ApiSecurity('x-api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1')
export class ChatCompletionsController {
  constructor(
    private readonly chat: ChatPipeline,
    private readonly completions: CompletionPipeline,
  ) {}

  @Post('chat/completions')
  @HttpCode(200)
  @ApiOperation({ summary: 'Chat completion (JSON, or SSE with `stream: true`) on any configured provider' })
  @ApiOkResponse({ description: 'A chat.completion object, or an SSE stream of chat.completion.chunk events' })
  async chatCompletions(
    @Body({ schema: chatRequestSchema }) body: ChatRequest,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const ctx = requestContext(req, res, 'chat');
    if (body.stream) {
      const { headers, chunks } = await this.chat.stream(body, ctx);
      return writeSse(res, headers, chunks, 'openai');
    }
    const { value, headers } = await this.chat.complete(body, ctx);
    res.set(headers).json(value);
  }

  @Post('completions')
  @HttpCode(200)
  @ApiOperation({ summary: 'Legacy text completion (JSON or SSE)' })
  async legacyCompletions(
    @Body({ schema: completionRequestSchema }) body: CompletionRequest,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const ctx = requestContext(req, res, 'completions');
    if (body.stream) {
      const { headers, chunks } = await this.completions.stream(body, ctx);
      return writeSse(res, headers, chunks, 'openai');
    }
    const { value, headers } = await this.completions.complete(body, ctx);
    res.set(headers).json(value);
  }

  @Post('embeddings')
  @HttpCode(200)
  @ApiOperation({ summary: 'Embeddings' })
  async embeddings(
    @Body({ schema: embeddingRequestSchema }) body: EmbeddingRequest,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const { value, headers } = await this.completions.embed(body, requestContext(req, res, 'embeddings'));
    res.set(headers).json(value);
  }
}
