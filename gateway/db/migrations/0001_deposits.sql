CREATE TABLE "gateway"."deposits" (
	"operation_id" text PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"requested_by" text NOT NULL,
	"channel" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"amount" integer NOT NULL,
	"currency" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"outcome" text,
	"reason" text,
	"decided_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "gateway"."deposits" ADD CONSTRAINT "deposits_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "gateway"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deposits_user_created" ON "gateway"."deposits" USING btree ("user_id","created_at" DESC NULLS LAST);