/**
 * Age buckets as JASMIN's `pan_du -sa` shows them: ≤30, ≤60, ≤90, ≤120 and >120 days. Plain constants, apart from
 * the zod schemas of scan-report.ts that use them, so that the walker's tally can use them without loading zod
 * (`xfc scan` is timed against du from its first instruction).
 */
export const ageBucketLabels = ['≤30 days', '≤60 days', '≤90 days', '≤120 days', '>120 days'] as const;
export const ageBucketLimits = [30, 60, 90, 120, null] as const;
