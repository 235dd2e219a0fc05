/**
 * Polls `check` every `everyMs` (default 50 ms) until it returns a value other than undefined
 * (or false), for at most `ms`; returns that value.
 * @throws Error naming `what` and `ms` when the time is up.
 */
export async function until<T>(
  what: string,
  ms: number,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
