import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { ApiKeyGuard, CurrentPrincipal, type Principal } from '@app/auth';
import { ModelListResponse, ModelResponse } from './dto/model.dto';
import { ModelsService } from './models.service';

/** `GET /v1/models` and `GET /v1/models/{id}`, as OpenAI's API; ids may contain `/`. */
@ApiTags('models')
@ApiBearerAuth()
@ApiSecurity('x-api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

  @Get()
  @ApiOperation({ summary: 'Every model this key may use: route aliases, agents and provider/model' })
  @ApiOkResponse({ standardSchema: ModelListResponse })
  list(@CurrentPrincipal() principal: Principal): ModelListResponse {
    return { object: 'list', data: this.models.list(principal) };
  }

  // Express 5 wildcard: the id arrives as its decoded path segments (`openai/gpt-4o` -> ['openai', 'gpt-4o']).
  @Get('*id')
  @ApiOperation({ summary: 'One model, e.g. `openai/gpt-4o-mini`, a route alias, or a model one provider serves' })
  @ApiParam({ name: 'id', type: String, description: 'The model id; may contain `/`' })
  @ApiOkResponse({ standardSchema: ModelResponse })
  @ApiNotFoundResponse({ description: 'No such model (model_not_found)' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string[] | string): ModelResponse {
    return this.models.get(Array.isArray(id) ? id.join('/') : id, principal);
  }
}
