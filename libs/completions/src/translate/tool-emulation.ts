import type { ChatAssistantMessage, ChatFunctionTool, ChatMessage, ChatRequest, ChatToolCall } from '@app/contracts';
import { GatewayError, customToolParam } from '@app/contracts';
import { contentText, withSystemInstruction } from './prompt-messages';
import { type ToolOffer, toolOffer } from './tool-offer';

/**
 * Tool calling for upstreams without it ("universal tool calling"): the tools and
 * a strict reply protocol go into the system prompt, earlier tool calls and
 * results become plain text, and the reply is parsed back into `tool_calls`
 * (`tool-emulation.reply.ts`). Pure.
 *
 * The protocol: when calling tools the model replies with only
 * `{"tool_calls":[{"name":"<tool>","arguments":{...}}]}`; otherwise with plain text.
 */

function describeTool(tool: ChatFunctionTool): string {
  const fn = tool.function;
  const lines = [`## ${fn.name}`];
  if (fn.description) lines.push(fn.description);
  lines.push(`Arguments (JSON Schema): ${JSON.stringify(fn.parameters ?? { type: 'object', properties: {} })}`);
  return lines.join('\n');
}

function obligation(offer: ToolOffer): string {
  if (offer.mode === 'auto') {
    return 'When no tool is needed, reply normally in plain text, without JSON and without mentioning tools.';
  }
  const which = offer.tools.length === 1 ? `the tool "${offer.tools[0].function.name}"` : 'at least one tool';
  return `In this reply you MUST call ${which}: reply with only the JSON object, no text.`;
}

/**
 * The system instruction of a turn where no tool may be called (`tool_choice: "none"`,
 * or no tool given) after earlier tool calls: the history shows the protocol, and a
 * model that sees it tends to carry on with it unless told otherwise.
 */
export const NO_TOOLS_INSTRUCTION = [
  '# Tools',
  'Earlier turns of this conversation called tools by replying with a JSON object {"tool_calls":[...]}, and their results came back as "Tool result" messages.',
  'No tool can be called in this reply: answer in plain text, from what the conversation already holds, without any tool_calls JSON.',
].join('\n\n');

/** The system instruction describing the tools and the reply protocol. */
export function toolInstruction(offer: ToolOffer): string {
  const example = '{"tool_calls":[{"name":"<tool name>","arguments":{<arguments as the tool\'s schema describes>}}]}';
  return [
    '# Tools',
    'You can call the tools below. Each one has a name, a description and a JSON Schema for its arguments.',
    ...offer.tools.map(describeTool),
    '# Calling tools',
    'To call tools, reply with ONLY a JSON object of exactly this form, nothing before or after it and no code fences:',
    example,
    offer.single
      ? 'Call at most one tool per reply.'
      : 'Put several calls in the array when they are independent of each other.',
    'Use only the tool names listed above, with arguments that satisfy their schemas. The results will be sent back to you as "Tool result" messages.',
    obligation(offer),
  ].join('\n\n');
}

function parseArguments(raw: string): unknown {
  try {
    return raw.trim() === '' ? {} : (JSON.parse(raw) as unknown);
  } catch {
    return raw;
  }
}

/** An earlier assistant turn with tool calls, as the text the protocol would have produced. */
function assistantAsText(msg: ChatAssistantMessage): ChatMessage {
  const calls = (msg.tool_calls ?? []).map((call: ChatToolCall) =>
    call.type === 'function'
      ? { name: call.function.name, arguments: parseArguments(call.function.arguments) }
      : { name: call.custom.name, arguments: call.custom.input },
  );
  const text = contentText(msg.content);
  const json = JSON.stringify({ tool_calls: calls });
  const { tool_calls: _calls, function_call: _fn, ...rest } = msg;
  return { ...rest, content: text ? `${text}\n${json}` : json };
}

function toolResultText(name: string | undefined, id: string, content: string): string {
  return `Tool result (${name ?? 'tool'}, call ${id}):\n${content}`;
}

/**
 * The conversation without tool roles: assistant tool calls as protocol JSON,
 * each run of tool results as one user message (merged into a user message that
 * directly follows, its text or its first part, since many chat templates want user
 * and assistant to alternate).
 */
export function rewriteToolHistory(messages: ChatMessage[]): ChatMessage[] {
  const names = new Map<string, string>();
  const out: ChatMessage[] = [];
  let results: string[] = [];
  const flush = (next: ChatMessage | undefined): ChatMessage | undefined => {
    if (results.length === 0) return next;
    const text = results.join('\n\n');
    results = [];
    if (next?.role === 'user') {
      if (typeof next.content === 'string') return { ...next, content: `${text}\n\n${next.content}` };
      return { ...next, content: [{ type: 'text', text }, ...next.content] };
    }
    out.push({ role: 'user', content: text });
    return next;
  };
  for (const msg of messages) {
    if (msg.role === 'tool') {
      results.push(toolResultText(names.get(msg.tool_call_id), msg.tool_call_id, contentText(msg.content)));
      continue;
    }
    if (msg.role === 'function') {
      results.push(toolResultText(msg.name, msg.name, msg.content ?? ''));
      continue;
    }
    const next = flush(msg);
    if (next?.role === 'assistant' && next.tool_calls?.length) {
      for (const call of next.tool_calls)
        names.set(call.id, call.type === 'function' ? call.function.name : call.custom.name);
      out.push(assistantAsText(next));
    } else if (next) out.push(next);
  }
  flush(undefined);
  return out;
}

/**
 * The request for an upstream without native tools: `tools`, `tool_choice` and
 * `parallel_tool_calls` removed, the tools and the reply protocol added to the
 * system prompt (when no tool may be called — `tool_choice: "none"` — after earlier
 * calls, that none may be called now), and the tool traffic in the history rewritten
 * as plain text. Parse the reply with `parseEmulatedToolReply` against the ORIGINAL
 * request.
 */
export function emulateToolsRequest(req: ChatRequest): ChatRequest {
  const custom = customToolParam(req);
  if (custom !== undefined) {
    throw new GatewayError(
      'invalid_request_error',
      'custom tools are not supported by this provider: its tools are emulated, and only function tools can be',
      { param: custom, unsupported: true },
    );
  }
  const { tools: _tools, tool_choice: _choice, parallel_tool_calls: _parallel, ...rest } = req;
  const offer = toolOffer(req);
  const messages = rewriteToolHistory(req.messages);
  let instruction: string | undefined;
  if (offer.tools.length > 0) instruction = toolInstruction(offer);
  else if (hasToolHistory(req.messages)) instruction = NO_TOOLS_INSTRUCTION;
  return { ...rest, messages: instruction ? withSystemInstruction(messages, instruction) : messages };
}

/**
 * The request for one repair attempt after a reply that broke the tool protocol
 * (`toolReplyProblem`): the emulated request, the reply as the assistant's turn,
 * and a user turn saying what was wrong and how to reply instead.
 */
export function toolRepairRequest(
  upstream: ChatRequest,
  badReply: string,
  problem: string,
  offer: ToolOffer,
): ChatRequest {
  const names = offer.tools.map((tool) => `"${tool.function.name}"`).join(', ');
  let instead: string;
  if (offer.tools.length === 0) {
    instead = 'Reply again in plain text, without any tool_calls JSON: no tool can be called now.';
  } else if (offer.mode === 'auto') {
    instead = `Reply again: either with only the JSON object of the tool protocol described above, or, if no tool is needed, in plain text without JSON.\nThe tools you may call: ${names}.`;
  } else {
    instead = `Reply again with only the JSON object of the tool protocol described above, calling a tool: no text.\nThe tools you may call: ${names}.`;
  }
  const ask = `Your previous reply is not valid: ${problem}.\n${instead}`;
  return {
    ...upstream,
    messages: [...upstream.messages, { role: 'assistant', content: badReply }, { role: 'user', content: ask }],
  };
}

/** Whether the conversation holds tool traffic: assistant tool calls, tool (or function) results. */
function hasToolHistory(messages: ChatMessage[]): boolean {
  return messages.some(
    (msg) =>
      msg.role === 'tool' || msg.role === 'function' || (msg.role === 'assistant' && Boolean(msg.tool_calls?.length)),
  );
}

/** Whether a request needs emulation on an upstream without tools: tools offered, or tool traffic in its history. */
export function usesTools(req: ChatRequest): boolean {
  return (req.tools?.length ?? 0) > 0 || hasToolHistory(req.messages);
}
