// Runs async jobs a few at a time.

/**
 * Runs `worker` over `items` with at most `limit` running together; resolves when all are done.
 * `shouldStop` is checked before each start (cancellation).
 * @template T
 * @param {readonly T[]} items
 * @param {number} limit
 * @param {(item: T, index: number) => Promise<void>} worker
 * @param {() => boolean} [shouldStop]
 */
export async function runPool(items, limit, worker, shouldStop = () => false) {
  let next = 0;
  async function lane() {
    while (next < items.length && !shouldStop()) {
      const i = next++;
      await worker(items[i], i);
    }
  }
  const lanes = [];
  for (let k = 0; k < Math.max(1, Math.min(limit, items.length)); k++) lanes.push(lane());
  await Promise.all(lanes);
}
