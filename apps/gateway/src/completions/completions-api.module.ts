import { Module } from '@nestjs/common';
import { CompletionsModule } from '@app/completions';
import { ChatCompletionsController } from './chat-completions.controller';
import { HotApi } from './hot-api';
import { MessagesController } from './messages.controller';
import { StructuredController } from './structured.controller';

/** The gateway's generation routes over the shared pipeline. */
@Module({
  imports: [CompletionsModule.forRoot()],
  controllers: [ChatCompletionsController, MessagesController, StructuredController],
  providers: [HotApi],
})
export class CompletionsApiModule {}
