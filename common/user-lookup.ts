/**
 * The gateway's batched user lookup, as money-storage calls it: `POST USER_LOOKUP_PATH` with
 * `{ ids: string[] }` (1 to MAX_USER_LOOKUP_IDS user ids) answers `{ users: [{ id, userName,
 * status }] }`, an unknown id simply absent. One request and one query for every debit decided
 * together, where one each cost a round trip, an HTTP parse on both sides and a query.
 */
export const USER_LOOKUP_PATH = '/internal/users/lookup';

export const MAX_USER_LOOKUP_IDS = 500;
