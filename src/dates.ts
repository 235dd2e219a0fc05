/** Calendar dates as the CLI and TMDB write them: `YYYY-MM-DD`, UTC. */

/** True when `value` is a real calendar date written `YYYY-MM-DD` (2024-02-30 is not). */
export function isIsoDate(value: string): boolean {
  const ms = Date.parse(`${value}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === value;
}
