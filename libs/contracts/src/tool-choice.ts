import type { ChatRequest, ChatToolChoice } from './openai';

/** What a `tool_choice` asks of the model's turn: no call, a call if it likes, or a call. */
export type ToolChoiceMode = 'none' | 'auto' | 'required';

/** The mode of a `tool_choice`: a named function (or custom tool) must be called; `allowed_tools` says its own. */
export function toolChoiceMode(choice: ChatToolChoice | undefined): ToolChoiceMode {
  if (choice === undefined) return 'auto';
  if (typeof choice === 'string') return choice;
  return choice.type === 'allowed_tools' ? choice.allowed_tools.mode : 'required';
}

/**
 * The names of the tools a `tool_choice` lets the model call: the one it names,
 * or those `allowed_tools` lists (function and custom tools alike); `undefined`
 * when it restricts none (`none`, `auto`, `required`).
 */
export function allowedToolNames(choice: ChatToolChoice | undefined): Set<string> | undefined {
  if (typeof choice !== 'object' || choice === null) return undefined;
  if (choice.type === 'function') return new Set([choice.function.name]);
  if (choice.type === 'custom') return new Set([choice.custom.name]);
  const names = new Set<string>();
  for (const tool of choice.allowed_tools.tools) {
    const named = tool[tool['type'] === 'custom' ? 'custom' : 'function'] as { name?: unknown } | undefined;
    if (typeof named?.name === 'string') names.add(named.name);
  }
  return names;
}

/**
 * Where a chat request uses a custom tool (OpenAI's free-form tools: `type:
 * "custom"`), as a param: the first such tool, a `tool_choice` naming one, or a
 * custom call in the history; `undefined` when it uses none. Only OpenAI-shaped
 * servers take them: the other providers refuse the request, naming it.
 */
export function customToolParam(req: ChatRequest): string | undefined {
  const tools = req.tools ?? [];
  for (let i = 0; i < tools.length; i++) if (tools[i].type === 'custom') return `tools[${i}]`;
  const choice = req.tool_choice;
  if (typeof choice === 'object' && choice !== null && choice.type === 'custom') return 'tool_choice';
  for (let i = 0; i < req.messages.length; i++) {
    const message = req.messages[i];
    if (message.role !== 'assistant') continue;
    const calls = message.tool_calls ?? [];
    for (let j = 0; j < calls.length; j++) if (calls[j].type === 'custom') return `messages[${i}].tool_calls[${j}]`;
  }
  return undefined;
}
