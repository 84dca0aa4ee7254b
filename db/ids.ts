import { z } from 'zod';

/**
 * Row ids of Django's tables and the foreign keys to them. Django's master creates them `integer` (the driver gives
 * a number); the app's coming migration 0003 makes them `bigint` (the pool gives a BigInt). Either way xfc holds an
 * id as a BigInt, so no id is ever rounded, and passes it back to PostgreSQL as a parameter of either width.
 */
export type DbId = bigint;

export const dbId = z.union([z.bigint(), z.number().int()]).transform((value): DbId => BigInt(value));
