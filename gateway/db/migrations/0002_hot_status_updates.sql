DROP INDEX "gateway"."payments_unfinished";--> statement-breakpoint
-- Room on each page for a row's status updates to stay on it (HOT: no index entries written).
ALTER TABLE "gateway"."payments" SET (fillfactor = 80);
