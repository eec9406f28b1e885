import {
  type ChatFunctionTool,
  type ChatRequest,
  GatewayError,
  type ToolChoiceMode,
  allowedToolNames,
  toolChoiceMode,
} from '@app/contracts';

/** What the model may do this turn: which tools it sees, and whether it must call one. */
export interface ToolOffer {
  tools: ChatFunctionTool[];
  mode: ToolChoiceMode;
  /** Only one call per reply (`parallel_tool_calls: false`). */
  single: boolean;
}

/** The function tools offered to the model under the request's `tool_choice`. */
export function toolOffer(req: ChatRequest): ToolOffer {
  const allowed = allowedToolNames(req.tool_choice);
  const mode = toolChoiceMode(req.tool_choice);
  const tools = (req.tools ?? []).filter(
    (tool): tool is ChatFunctionTool => tool.type === 'function' && (!allowed || allowed.has(tool.function.name)),
  );
  return { tools: mode === 'none' ? [] : tools, mode, single: req.parallel_tool_calls === false };
}

/**
 * A `tool_choice` that demands a call the request's tools cannot satisfy — a
 * named function (or custom tool) missing from `tools`, `required` (or
 * `allowed_tools` in required mode) with no tool among those allowed — is a 400 naming
 * `tool_choice`, the same on every provider: OpenAI rejects it, Anthropic too,
 * and a provider whose tools the gateway emulates would otherwise be asked for a
 * call of nothing. `none` and `auto` demand nothing and pass without tools.
 * It checks the tools the request carries when it runs: an agent's own tools,
 * once agents add theirs, must be merged before it.
 */
export function validateToolChoice(req: ChatRequest): void {
  const choice = req.tool_choice;
  if (choice === undefined || choice === 'none' || choice === 'auto') return;
  const names = new Set<string>();
  for (const tool of req.tools ?? []) names.add(tool.type === 'function' ? tool.function.name : tool.custom.name);
  if (typeof choice === 'object' && (choice.type === 'function' || choice.type === 'custom')) {
    const name = choice.type === 'function' ? choice.function.name : choice.custom.name;
    if (!names.has(name)) {
      throw invalidChoice(`tool_choice names the ${choice.type} tool '${name}', which is not among the tools`);
    }
    return;
  }
  if (toolChoiceMode(choice) !== 'required') return;
  const allowed = allowedToolNames(choice);
  const offered = allowed ? [...allowed].some((name) => names.has(name)) : names.size > 0;
  if (!offered) {
    throw invalidChoice('tool_choice requires a tool call, but none of the tools it allows is given in tools');
  }
}

function invalidChoice(message: string): GatewayError {
  return new GatewayError('invalid_request_error', message, { param: 'tool_choice' });
}
