import type { ChatParameter } from '@app/contracts';

/** Every Chat Completions argument, checked against the SDK's types so the list keeps up with it. */
export const CHAT_PARAMETERS: ReadonlySet<string> = new Set(
  Object.keys({
    messages: true,
    model: true,
    audio: true,
    frequency_penalty: true,
    function_call: true,
    functions: true,
    logit_bias: true,
    logprobs: true,
    max_completion_tokens: true,
    max_tokens: true,
    metadata: true,
    modalities: true,
    n: true,
    parallel_tool_calls: true,
    prediction: true,
    presence_penalty: true,
    prompt_cache_key: true,
    prompt_cache_retention: true,
    reasoning_effort: true,
    response_format: true,
    safety_identifier: true,
    seed: true,
    service_tier: true,
    stop: true,
    store: true,
    stream: true,
    stream_options: true,
    temperature: true,
    tool_choice: true,
    tools: true,
    top_logprobs: true,
    top_p: true,
    user: true,
    verbosity: true,
    web_search_options: true,
  } satisfies Record<ChatParameter, true>),
);

/** The Chat Completions arguments the Messages API also defines, under the same name. */
const SHARED_WITH_MESSAGES = new Set([
  'model',
  'messages',
  'max_tokens',
  'stream',
  'temperature',
  'top_p',
  'tools',
  'tool_choice',
  'metadata',
  'service_tier',
]);

/**
 * Chat Completions arguments the Messages API has no field for (`n`, `logprobs`,
 * `max_completion_tokens`, `response_format`...). A Messages request carrying one
 * is refused, as Anthropic refuses a field it does not define: passed on, `n: 3`
 * had an OpenAI upstream write three answers for a client that reads one, and
 * limits estimated the request without them.
 */
export const CHAT_ONLY_PARAMETERS: ReadonlySet<string> = new Set(
  [...CHAT_PARAMETERS].filter((name) => !SHARED_WITH_MESSAGES.has(name)),
);
