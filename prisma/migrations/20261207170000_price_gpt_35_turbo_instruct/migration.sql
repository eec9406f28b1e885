-- The one OpenAI model that still serves legacy completions (/v1/completions): it was unpriced,
-- and `gpt-3.5-turbo`'s entry does not cover it. An admin's own entry is kept.
INSERT INTO "prices" ("id", "provider", "model", "input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "updated_at")
VALUES (gen_random_uuid(), 'openai', 'gpt-3.5-turbo-instruct', 1.50, 2.00, NULL, CURRENT_TIMESTAMP)
ON CONFLICT ("provider", "model") DO NOTHING;
