import type { ChatFunctionTool, ChatRequest } from '@app/contracts';

/** What the model may do this turn: which tools it sees, and whether it must call one. */
export interface ToolOffer {
  tools: ChatFunctionTool[];
  mode: 'auto' | 'required' | 'none';
  /** Only one call per reply (`parallel_tool_calls: false`). */
  single: boolean;
}

function allowedNames(req: ChatRequest): Set<string> | undefined {
  const choice = req.tool_choice;
  if (typeof choice !== 'object' || choice === null) return undefined;
  if (choice.type === 'function') return new Set([choice.function.name]);
  if (choice.type === 'allowed_tools') {
    const names = choice.allowed_tools.tools.map((tool) => {
      const fn = tool['function'] as { name?: unknown } | undefined;
      return typeof fn?.name === 'string' ? fn.name : undefined;
    });
    return new Set(names.filter((name): name is string => name !== undefined));
  }
  return undefined;
}

function offerMode(req: ChatRequest): ToolOffer['mode'] {
  const choice = req.tool_choice;
  if (choice === 'none' || choice === 'required') return choice;
  if (typeof choice === 'object' && choice !== null) {
    if (choice.type === 'function') return 'required';
    if (choice.type === 'allowed_tools') return choice.allowed_tools.mode;
  }
  return 'auto';
}

/** The function tools offered to the model under the request's `tool_choice`. */
export function toolOffer(req: ChatRequest): ToolOffer {
  const allowed = allowedNames(req);
  const mode = offerMode(req);
  const tools = (req.tools ?? []).filter(
    (tool): tool is ChatFunctionTool => tool.type === 'function' && (!allowed || allowed.has(tool.function.name)),
  );
  return { tools: mode === 'none' ? [] : tools, mode, single: req.parallel_tool_calls === false };
}
