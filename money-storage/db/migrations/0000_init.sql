CREATE SCHEMA "money";
--> statement-breakpoint
CREATE TABLE "money"."accounts" (
	"user_id" bigint NOT NULL,
	"currency" text NOT NULL,
	"balance" bigint DEFAULT '0' NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accounts_user_id_currency_pk" PRIMARY KEY("user_id","currency"),
	CONSTRAINT "accounts_balance_non_negative" CHECK ("money"."accounts"."balance" >= 0)
);
--> statement-breakpoint
CREATE TABLE "money"."ledger_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"operation_id" text NOT NULL,
	"kind" text NOT NULL,
	"purpose" text NOT NULL,
	"payment_id" uuid,
	"user_id" bigint NOT NULL,
	"currency" text NOT NULL,
	"amount" bigint NOT NULL,
	"balance_after" bigint NOT NULL,
	"reverses" text,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_entries_operation_id_unique" UNIQUE("operation_id"),
	CONSTRAINT "ledger_entries_amount_non_zero" CHECK ("money"."ledger_entries"."amount" <> 0)
);
--> statement-breakpoint
CREATE TABLE "money"."processed_operations" (
	"operation_id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"payment_id" uuid,
	"user_id" bigint NOT NULL,
	"outcome" text NOT NULL,
	"reason" text,
	"balance_after" bigint,
	"reversed_by" text,
	"processed_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_entries_reverses" ON "money"."ledger_entries" USING btree ("reverses") WHERE "money"."ledger_entries"."reverses" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "ledger_entries_account" ON "money"."ledger_entries" USING btree ("user_id","currency");--> statement-breakpoint
CREATE INDEX "ledger_entries_payment" ON "money"."ledger_entries" USING btree ("payment_id") WHERE "money"."ledger_entries"."payment_id" IS NOT NULL;