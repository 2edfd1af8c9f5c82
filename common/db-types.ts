import { customType } from 'drizzle-orm/pg-core';

/** A Postgres bigint read and written as a decimal string: exact, and JSON-safe unlike BigInt. */
export const bigintString = customType<{ data: string; driverData: string }>({
  dataType: () => 'bigint',
  fromDriver: (value) => String(value),
});
