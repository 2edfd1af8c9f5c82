/**
 * How a user's ledger is paged, agreed by money-storage (which serves it) and the gateway (which
 * checks a client's request before asking): newest first, keyset-paged by entry id.
 */
export const MAX_LEDGER_PAGE = 200;
/** An entry id as a cursor: a positive bigserial, short enough to stay exact as a JS number. */
export const LEDGER_ENTRY_ID = /^[1-9][0-9]{0,15}$/;
