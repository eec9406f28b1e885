-- CreateTable
CREATE TABLE "usage_daily" (
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "team_id" TEXT NOT NULL DEFAULT '',
    "api_key_id" TEXT NOT NULL DEFAULT '',
    "provider" TEXT NOT NULL DEFAULT '',
    "model" TEXT NOT NULL DEFAULT '',
    "agent_id" TEXT NOT NULL DEFAULT '',
    "requests" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,
    "cached_tokens" BIGINT NOT NULL DEFAULT 0,
    "cost_usd" DECIMAL(18,8) NOT NULL DEFAULT 0,
    "latency_ms_sum" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "usage_daily_pkey" PRIMARY KEY ("bucket","team_id","api_key_id","provider","model","agent_id")
);

-- CreateIndex
CREATE INDEX "usage_daily_team_id_bucket_idx" ON "usage_daily"("team_id", "bucket");

-- Data: list prices in USD per million tokens (input, output, cached input), as published by
-- OpenAI, Anthropic and Google in 2025; Gemini at the <=200k-token prompt tier. Dated and
-- `-latest` model ids are priced as their family (see PriceTable). Local providers cost nothing.
-- Existing entries are kept, so an admin's edit is never overwritten.
INSERT INTO "prices" ("id", "provider", "model", "input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "updated_at")
SELECT gen_random_uuid(), v.provider, v.model, v.input, v.output, v.cached, CURRENT_TIMESTAMP
FROM (VALUES
    ('openai', 'gpt-5', 1.25, 10.00, 0.125),
    ('openai', 'gpt-5-mini', 0.25, 2.00, 0.025),
    ('openai', 'gpt-5-nano', 0.05, 0.40, 0.005),
    ('openai', 'gpt-4.1', 2.00, 8.00, 0.50),
    ('openai', 'gpt-4.1-mini', 0.40, 1.60, 0.10),
    ('openai', 'gpt-4.1-nano', 0.10, 0.40, 0.025),
    ('openai', 'gpt-4o', 2.50, 10.00, 1.25),
    ('openai', 'gpt-4o-mini', 0.15, 0.60, 0.075),
    ('openai', 'o1', 15.00, 60.00, 7.50),
    ('openai', 'o1-mini', 1.10, 4.40, 0.55),
    ('openai', 'o3', 2.00, 8.00, 0.50),
    ('openai', 'o3-mini', 1.10, 4.40, 0.55),
    ('openai', 'o4-mini', 1.10, 4.40, 0.275),
    ('openai', 'gpt-4-turbo', 10.00, 30.00, NULL),
    ('openai', 'gpt-4', 30.00, 60.00, NULL),
    ('openai', 'gpt-3.5-turbo', 0.50, 1.50, NULL),
    ('openai', 'text-embedding-3-small', 0.02, 0, NULL),
    ('openai', 'text-embedding-3-large', 0.13, 0, NULL),
    ('openai', 'text-embedding-ada-002', 0.10, 0, NULL),
    ('anthropic', 'claude-opus-4-1', 15.00, 75.00, 1.50),
    ('anthropic', 'claude-opus-4', 15.00, 75.00, 1.50),
    ('anthropic', 'claude-opus-4-0', 15.00, 75.00, 1.50),
    ('anthropic', 'claude-sonnet-4-5', 3.00, 15.00, 0.30),
    ('anthropic', 'claude-sonnet-4', 3.00, 15.00, 0.30),
    ('anthropic', 'claude-sonnet-4-0', 3.00, 15.00, 0.30),
    ('anthropic', 'claude-3-7-sonnet', 3.00, 15.00, 0.30),
    ('anthropic', 'claude-3-5-sonnet', 3.00, 15.00, 0.30),
    ('anthropic', 'claude-haiku-4-5', 1.00, 5.00, 0.10),
    ('anthropic', 'claude-3-5-haiku', 0.80, 4.00, 0.08),
    ('anthropic', 'claude-3-haiku', 0.25, 1.25, 0.03),
    ('anthropic', 'claude-3-opus', 15.00, 75.00, 1.50),
    ('gemini', 'gemini-2.5-pro', 1.25, 10.00, 0.125),
    ('gemini', 'gemini-2.5-flash', 0.30, 2.50, 0.03),
    ('gemini', 'gemini-2.5-flash-lite', 0.10, 0.40, 0.01),
    ('gemini', 'gemini-2.0-flash', 0.10, 0.40, 0.025),
    ('gemini', 'gemini-2.0-flash-lite', 0.075, 0.30, NULL),
    ('gemini', 'gemini-1.5-pro', 1.25, 5.00, 0.3125),
    ('gemini', 'gemini-1.5-flash', 0.075, 0.30, 0.01875),
    ('gemini', 'gemini-embedding-001', 0.15, 0, NULL),
    ('ollama', '*', 0, 0, NULL),
    ('mock', '*', 0, 0, NULL)
) AS v(provider, model, input, output, cached)
ON CONFLICT ("provider", "model") DO NOTHING;
