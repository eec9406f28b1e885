import type { ChatResponse } from '@app/contracts';
import { newToolCallId } from './openai.stream';

type Choice = ChatResponse['choices'][number];
type ToolCall = NonNullable<Choice['message']['tool_calls']>[number];

interface LooseCall {
  id?: unknown;
  type?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

/**
 * Pure: a JSON chat answer of an OpenAI look-alike server as OpenAI sends one, as
 * its streams are mended (`openai.stream.ts`): a tool call without an id gets one
 * (clients answer a call by it), one without a type is a function call, arguments
 * sent as an object become their JSON text (OpenAI's SDKs parse a string), and a
 * turn that called tools finished with `stop` (Ollama, Gemini) is finished with
 * `tool_calls` (agent loops run the tools on that signal). Itself when nothing needs
 * mending, as OpenAI's own answers never do.
 */
export function mendChatAnswer(answer: ChatResponse): ChatResponse {
  if (!answer.choices.some(choiceNeedsMending)) return answer;
  const choices = answer.choices.map((choice): Choice => {
    if (!choiceNeedsMending(choice)) return choice;
    const calls = choice.message.tool_calls ?? [];
    const mended = calls.map((call) => (needsMending(call) ? mendCall(call as LooseCall) : call));
    const finish = choice.finish_reason === 'stop' ? 'tool_calls' : choice.finish_reason;
    return { ...choice, message: { ...choice.message, tool_calls: mended }, finish_reason: finish };
  });
  return { ...answer, choices };
}

function choiceNeedsMending(choice: Choice): boolean {
  const calls = choice.message?.tool_calls;
  return (
    calls !== undefined &&
    calls !== null &&
    calls.length > 0 &&
    (choice.finish_reason === 'stop' || calls.some(needsMending))
  );
}

function needsMending(call: unknown): boolean {
  const loose = call as LooseCall | null;
  if (loose?.type !== undefined && loose.type !== 'function') return false; // a custom tool's call: its own shape
  return (
    typeof loose?.id !== 'string' ||
    loose.id === '' ||
    loose.type === undefined ||
    (loose.function !== undefined && typeof loose.function.arguments !== 'string')
  );
}

function mendCall(call: LooseCall): ToolCall {
  const args = call.function?.arguments;
  const text = typeof args === 'string' ? args : args === undefined || args === null ? '{}' : JSON.stringify(args);
  const id = typeof call.id === 'string' && call.id !== '' ? call.id : newToolCallId();
  const name = typeof call.function?.name === 'string' ? call.function.name : '';
  return { ...call, id, type: 'function', function: { ...call.function, name, arguments: text } };
}
