import { z } from 'zod';
import { isUserId, type UserId } from './ids';

/**
 * The gateway's batched user lookup, as money-storage calls it: `POST USER_LOOKUP_PATH` with
 * `{ ids: string[] }` (1 to MAX_USER_LOOKUP_IDS user ids) answers `{ users: [{ id, userName,
 * status }] }`, an unknown id simply absent. One request and one query for every debit decided
 * together, where one each cost a round trip, an HTTP parse on both sides and a query.
 */
export const USER_LOOKUP_PATH = '/internal/users/lookup';

export const MAX_USER_LOOKUP_IDS = 500;

export const USER_STATUSES = ['ACTIVE', 'BLOCKED'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/** The answer, as money-storage checks it: ids are Postgres int8s (a number from an older gateway too). */
export const userLookupAnswer = z.object({
  users: z.array(
    z.object({
      id: z
        .union([z.string(), z.number()])
        .transform(String)
        .refine(isUserId, 'not a user id')
        .transform((id) => id as UserId),
      userName: z.string(),
      status: z.enum(USER_STATUSES),
    }),
  ),
});
