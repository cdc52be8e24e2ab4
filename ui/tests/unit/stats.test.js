import test from 'node:test';
import assert from 'node:assert/strict';
import { perDay, perMonth, hasData, niceMax, chartPoints, rowDay, axisTicks } from '../../src/lib/stats.js';

const today = new Date(Date.UTC(2026, 2, 5, 12)); // 5 March 2026, noon UTC
const rows = [
  { requestCount: 4, createdDate: '2026-03-05' },
  { requestCount: 2, createdDate: '2026-03-01T10:00:00' },
  { requestCount: 3, createdDate: '2026-02-20' },
  { requestCount: 7, createdDate: '2026-02-03' }, // 30 days back is 4 Feb: outside
  { requestCount: 9, createdDate: '2025-09-30' }, // outside six months
  { requestCount: 1, createdDate: '2025-10-02' },
  { requestCount: 5, createdDate: null },
];

test('per day: 30 buckets ending today, dd-MM labels, rows summed', () => {
  const d = perDay(rows, today);
  assert.equal(d.length, 30);
  assert.equal(d[0].label, '04-02');
  assert.equal(d[29].label, '05-03');
  assert.equal(d[29].value, 4);
  assert.equal(d.find((b) => b.key === '2026-03-01')?.value, 2);
  assert.equal(d.find((b) => b.key === '2026-02-20')?.value, 3);
  assert.equal(d.reduce((s, b) => s + b.value, 0), 9);
});

test('per month: 6 buckets ending this month, month names', () => {
  const m = perMonth(rows, today);
  assert.deepEqual(m.map((b) => b.label), ['October', 'November', 'December', 'January', 'February', 'March']);
  assert.deepEqual(m.map((b) => b.value), [1, 0, 0, 0, 10, 6]);
});

test('no data and chart scale', () => {
  assert.equal(hasData([]), false);
  assert.equal(hasData([{ requestCount: 1 }]), false);
  assert.equal(hasData(rows), true);
  assert.equal(rowDay('bad'), null);
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(7), 10);
  assert.equal(niceMax(13), 20);
  assert.equal(niceMax(450), 500);
  const { max, points } = chartPoints([{ label: 'a', key: 'a', value: 0 }, { label: 'b', key: 'b', value: 5 }], { width: 110, height: 60, left: 10, right: 0, top: 10, bottom: 0 });
  assert.equal(max, 5);
  assert.deepEqual(points.map((p) => [p.x, p.y]), [[10, 60], [110, 10]]);
});

test('axis ticks are whole request counts', () => {
  assert.deepEqual(axisTicks(1), [0, 1]);
  assert.deepEqual(axisTicks(2), [0, 1, 2]);
  assert.deepEqual(axisTicks(5), [0, 5]);
  assert.deepEqual(axisTicks(50), [0, 25, 50]);
});

test('buckets are the server\'s UTC days, whatever the browser\'s time zone', () => {
  const lateEvening = new Date(Date.UTC(2026, 2, 5, 23, 30));
  assert.equal(perDay(rows, lateEvening)[29].key, '2026-03-05');
  const justAfterMidnight = new Date(Date.UTC(2026, 2, 6, 0, 10));
  assert.equal(perDay(rows, justAfterMidnight)[29].key, '2026-03-06');
  assert.equal(perMonth(rows, new Date(Date.UTC(2026, 2, 31, 23, 59))).at(-1)?.label, 'March');
});
