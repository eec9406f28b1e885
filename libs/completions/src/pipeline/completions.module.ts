import { type DynamicModule, Module } from '@nestjs/common';
import { ProviderCatalogModule } from '../catalog';
import { ChatPipeline } from './chat.pipeline';
import { CompletionPipeline } from './completion.pipeline';
import { GenerationRunner } from './generation-runner';
import { MessagesCaller } from './messages-caller';
import { MessagesPipeline } from './messages.pipeline';
import { OutcomeReporter } from './outcome-reporter';
import { ProviderCaller } from './provider-caller';
import { RequestAdmission } from './request-admission.service';
import { RoutingService } from './routing.service';
import { StatusBridge } from './status-bridge';
import { StructuredPipeline } from './structured.pipeline';

const PIPELINES = [ChatPipeline, CompletionPipeline, MessagesPipeline, StructuredPipeline];

/**
 * The request pipeline shared by chat, legacy completions, embeddings, the
 * Messages API and structured generation (and later sessions and agents).
 * Needs the auth and usage modules in the app.
 */
@Module({})
export class CompletionsModule {
  static forRoot(): DynamicModule {
    return {
      module: CompletionsModule,
      imports: [ProviderCatalogModule],
      providers: [
        RoutingService,
        ProviderCaller,
        MessagesCaller,
        OutcomeReporter,
        RequestAdmission,
        GenerationRunner,
        StatusBridge,
        ...PIPELINES,
      ],
      exports: [RoutingService, ...PIPELINES],
    };
  }
}
