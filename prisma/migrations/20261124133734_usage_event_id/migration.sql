-- DropIndex
DROP INDEX "usage_records_request_id_key";

-- AlterTable
ALTER TABLE "usage_records" ADD COLUMN     "event_id" UUID NOT NULL DEFAULT gen_random_uuid();

-- CreateIndex
CREATE UNIQUE INDEX "usage_records_event_id_key" ON "usage_records"("event_id");

-- CreateIndex
CREATE INDEX "usage_records_request_id_idx" ON "usage_records"("request_id");
