import {
  type ChatMessage,
  type ChatRequest,
  type CompletionRequest,
  type EmbeddingRequest,
  GatewayError,
  allowedToolNames,
  customToolParam,
  unsupportedByProvider,
} from '@app/contracts';

/**
 * Pure: a chat request as Ollama's OpenAI-compatible endpoint honours it. Ollama
 * accepts every field but silently ignores some that change what the client gets:
 *
 * - `max_completion_tokens` (OpenAI's name since `max_tokens` was deprecated): sent
 *   as `max_tokens`, the only limit Ollama reads; without it generation is unbounded.
 * - `developer` messages reach the model's chat template as an unknown role, which
 *   templates leave out: sent as `system`, which is what they are.
 * - `tool_choice`: `none` is honoured by not offering the tools; a named function by
 *   offering only that one, and `allowed_tools` by offering only those (with its mode
 *   as the choice). Ollama cannot force a call, so `required`, a named function and
 *   `allowed_tools` in required mode stay requests the model may decline.
 * - `n` > 1: Ollama answers with one choice whatever is asked, so it is refused; so are
 *   custom (free-form) tools, which it does not know.
 * - `parallel_tool_calls: false`: passed on, and kept by the adapter, which leaves
 *   out the tool calls after a choice's first (see `ollama.response.ts`).
 *
 * Returns the request itself when nothing needs fitting.
 */
export function toOllamaChatRequest(req: ChatRequest): ChatRequest {
  rejectChoices(req.n);
  const custom = customToolParam(req);
  if (custom !== undefined) throw unsupported(custom, 'custom tools are not supported by Ollama (function tools are)');
  let out = req;
  const limit = req.max_completion_tokens;
  if (limit !== undefined) {
    const { max_completion_tokens: _renamed, ...rest } = out;
    out = limit === null ? rest : { ...rest, max_tokens: limit };
  }
  if (req.messages.some((msg) => msg.role === 'developer' || refusedOnly(msg))) {
    out = { ...out, messages: req.messages.map((msg) => (refusedOnly(msg) ? refusalAsText(msg) : asSystem(msg))) };
  }
  return fitToolChoice(out);
}

/** An assistant turn that says only its refusal, in the `refusal` field as OpenAI answers one. */
function refusedOnly(msg: ChatMessage): boolean {
  if (msg.role !== 'assistant') return false;
  const refusal = (msg as { refusal?: unknown }).refusal;
  const empty = msg.content === null || msg.content === undefined || msg.content === '' || msg.content.length === 0;
  return empty && typeof refusal === 'string' && refusal !== '';
}

/** Ollama reads content, not `refusal`: what the model said goes there. */
function refusalAsText(msg: ChatMessage): ChatMessage {
  return { ...msg, content: (msg as { refusal?: string }).refusal ?? '' };
}

/**
 * Pure: a legacy completion request as Ollama's `/v1/completions` honours it. It
 * reads `suffix` (filled in between, by models that can), but ignores fields that
 * change what the client gets, and takes one text prompt:
 *
 * - `prompt` as a list of one text is sent as that text; a batch of prompts or
 *   token ids, which Ollama refuses with a JSON decoding error, are refused naming `prompt`;
 * - `n` > 1 and `best_of` > 1: Ollama answers with one completion, so they are refused;
 * - `logprobs`: ignored, or (newer versions) answered in the chat API's shape, not the
 *   legacy one clients parse, so any value is refused;
 * - `echo`: left out here and done by the adapter (see `ollama.response.ts`), as
 *   for the providers whose legacy completions are served through chat.
 */
export function toOllamaCompletionRequest(req: CompletionRequest): CompletionRequest {
  rejectChoices(req.n);
  const prompt = singlePrompt(req.prompt);
  if (req.best_of !== undefined && req.best_of !== null && req.best_of > 1) {
    throw unsupported('best_of', 'best_of above 1 is not supported by Ollama (it answers with one completion)');
  }
  if (req.logprobs !== undefined && req.logprobs !== null) {
    throw unsupported(
      'logprobs',
      "logprobs is not supported on Ollama's legacy completions (it ignores them, or answers them in another shape)",
    );
  }
  if (req.echo === undefined && prompt === req.prompt) return req;
  const { echo: _echo, ...rest } = req;
  return { ...rest, prompt };
}

/**
 * Pure: an embeddings request as Ollama's `/v1/embeddings` takes it: a text or texts.
 * Token ids (a list of integers, or lists of them), which it refuses as "invalid input
 * type", are refused naming `input`.
 */
export function toOllamaEmbeddingRequest(req: EmbeddingRequest): EmbeddingRequest {
  const input: unknown = req.input;
  if (typeof input === 'string' || (Array.isArray(input) && input.every((item) => typeof item === 'string'))) {
    return req;
  }
  throw unsupported('input', 'Ollama embeds texts only: token ids (lists of integers) are not supported by it');
}

/** The one text prompt Ollama takes: the prompt itself, or the only text of a list. */
function singlePrompt(prompt: CompletionRequest['prompt']): CompletionRequest['prompt'] {
  if (typeof prompt === 'string' || prompt === null || prompt === undefined) return prompt;
  if (prompt.length === 1 && typeof prompt[0] === 'string') return prompt[0];
  throw unsupported(
    'prompt',
    'Ollama takes a single text prompt for legacy completions (no batches of prompts or token ids)',
  );
}

function unsupported(param: string, message: string): GatewayError {
  return unsupportedByProvider(param, message);
}

function rejectChoices(n: number | null | undefined): void {
  if (n !== undefined && n !== null && n > 1) {
    throw new GatewayError('invalid_request_error', 'n > 1 is not supported by Ollama (it answers with one choice)', {
      unsupported: true,
      param: 'n',
    });
  }
}

function asSystem(msg: ChatMessage): ChatMessage {
  return msg.role === 'developer' ? { ...msg, role: 'system' } : msg;
}

function fitToolChoice(req: ChatRequest): ChatRequest {
  const choice = req.tool_choice;
  if (!req.tools || choice === undefined || choice === 'auto' || choice === 'required') return req;
  // Ollama ignores tool_choice: a choice of tools is kept to by offering only those.
  const allowed = allowedToolNames(choice);
  const tools = req.tools.filter((tool) => tool.type === 'function' && allowed?.has(tool.function.name));
  if (tools.length === 0) {
    const { tools: _tools, tool_choice: _choice, parallel_tool_calls: _parallel, ...rest } = req;
    return rest;
  }
  return choice !== 'none' && choice.type === 'allowed_tools'
    ? { ...req, tools, tool_choice: choice.allowed_tools.mode }
    : { ...req, tools };
}
