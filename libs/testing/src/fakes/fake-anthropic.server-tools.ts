import { asArray, asRecord, asString, type JsonRecord, type JsonValue } from './fake-content';

/**
 * Anthropic's own tools, as the fake Anthropic plays them: server tools (web
 * search: a `server_tool_use` block, its `web_search_tool_result`, then text whose
 * `citations` point into the results) and Anthropic-defined client tools (`bash`,
 * `text_editor`, `computer`...: no `input_schema`, the input's shape is Anthropic's).
 * Pure builders.
 */

/** The types of Anthropic's own tools; any other `type` is refused as Anthropic refuses it. */
const ANTHROPIC_TOOL_TYPE =
  /^(?:web_search|web_fetch|code_execution|bash|text_editor|computer|memory|tool_search_tool_(?:regex|bm25))_\d{8}$/;
const SERVER_TOOL_TYPE = /^(?:web_search|web_fetch|code_execution|tool_search_tool_\w+)_\d{8}$/;

/** In the last user text, makes a web search pause its turn (`pause_turn`) after the search, as a long one does. */
export const PAUSE_TRIGGER = /search deeply/i;

export type ServerToolBlock =
  | { type: 'server_tool_use'; id: string; name: string; input: JsonValue }
  | { type: 'web_search_tool_result'; tool_use_id: string; content: JsonValue }
  | { type: 'text'; text: string; citations?: JsonRecord[] };

/** Anthropic's 400 for the first tool that is neither a custom tool (with `input_schema`) nor one of its own. */
export function toolProblem(tools: unknown): string | undefined {
  for (const [i, tool] of asArray(tools).map(asRecord).entries()) {
    const type = asString(tool.type);
    if (type === undefined || type === 'custom') {
      if (!('input_schema' in tool)) return `tools.${i}.custom.input_schema: Field required`;
    } else if (!ANTHROPIC_TOOL_TYPE.test(type)) {
      return `tools.${i}: Input tag '${type}' found using 'type' does not match any of the expected tags`;
    }
  }
  return undefined;
}

/** Whether a tool is run by Anthropic's servers (never answered with a client `tool_use`). */
export function isServerTool(tool: JsonRecord): boolean {
  return SERVER_TOOL_TYPE.test(asString(tool.type) ?? '');
}

/** The input Claude gives an Anthropic-defined client tool; `undefined` for a custom tool. */
export function typedToolInput(tool: JsonRecord): JsonValue | undefined {
  const type = asString(tool.type) ?? '';
  if (type.startsWith('bash_')) return { command: 'ls -la' };
  if (type.startsWith('text_editor_')) return { command: 'view', path: '/repo/README.md' };
  if (type.startsWith('computer_')) return { action: 'screenshot' };
  if (type.startsWith('memory_')) return { command: 'view', path: '/memories' };
  return undefined;
}

export interface WebSearchPlan {
  content: ServerToolBlock[];
  stopReason: 'end_turn' | 'pause_turn';
  searches: number;
}

/**
 * With a web search tool on offer: a question (the last user text) is searched
 * and answered with citations, or only searched when it asks to search deeply
 * (the turn paused); a paused turn sent back (the last message the assistant's,
 * ending in the search's result) is answered. `undefined` otherwise.
 */
export function planWebSearch(body: JsonRecord, userText: string, id: string): WebSearchPlan | undefined {
  const offered = asArray(body.tools).some((tool) => (asString(asRecord(tool).type) ?? '').startsWith('web_search_'));
  if (!offered || asRecord(body.tool_choice).type === 'none') return undefined;
  const last = asRecord(asArray(body.messages).at(-1));
  if (last.role === 'assistant') {
    const blocks = asArray(last.content).map(asRecord);
    if (blocks.at(-1)?.type !== 'web_search_tool_result') return undefined;
    const use = blocks.find((block) => block.type === 'server_tool_use');
    const query = asString(asRecord(use?.input).query) ?? '';
    return { content: [answer(query)], stopReason: 'end_turn', searches: 0 };
  }
  if (last.role !== 'user' || userText === '') return undefined;
  const search: ServerToolBlock[] = [
    { type: 'server_tool_use', id, name: 'web_search', input: { query: userText } },
    { type: 'web_search_tool_result', tool_use_id: id, content: [result(userText)] },
  ];
  if (PAUSE_TRIGGER.test(userText)) return { content: search, stopReason: 'pause_turn', searches: 1 };
  const intro: ServerToolBlock = { type: 'text', text: 'Let me search the web.' };
  return { content: [intro, ...search, answer(userText)], stopReason: 'end_turn', searches: 1 };
}

const RESULT_URL = 'https://example.com/answer';
const RESULT_TITLE = 'The answer';

function result(query: string): { [key: string]: JsonValue } {
  return {
    type: 'web_search_result',
    url: RESULT_URL,
    title: RESULT_TITLE,
    encrypted_content: Buffer.from(`page about ${query}`).toString('base64'),
    page_age: 'April 1, 2025',
  };
}

/** The answer to a search, citing its result. */
function answer(query: string): ServerToolBlock {
  const cited = `The web says ${query}.`;
  const citation = {
    type: 'web_search_result_location',
    url: RESULT_URL,
    title: RESULT_TITLE,
    encrypted_index: Buffer.from(query).toString('base64'),
    cited_text: cited,
  };
  return { type: 'text', text: cited, citations: [citation] };
}
