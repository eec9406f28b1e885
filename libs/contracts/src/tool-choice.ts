import type { ChatToolChoice } from './openai';

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
