-- AlterTable
ALTER TABLE "usage_records" ADD COLUMN     "discarded" BOOLEAN NOT NULL DEFAULT false;
