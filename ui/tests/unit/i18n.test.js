import test from 'node:test';
import assert from 'node:assert/strict';
import { en, t, pluralForm } from '../../src/lib/i18n.js';

test('plural forms: one for 1, other for 0, 2, 1.5 and for no count', () => {
  const forms = { one: '{count} subject', other: '{count} subjects' };
  assert.equal(pluralForm(forms, 1), '{count} subject');
  assert.equal(pluralForm(forms, 0), '{count} subjects');
  assert.equal(pluralForm(forms, 2), '{count} subjects');
  assert.equal(pluralForm(forms, 1.5), '{count} subjects');
  assert.equal(pluralForm(forms, undefined), '{count} subjects');
  assert.equal(pluralForm({ other: '{count} x' }, 1), '{count} x');
});

test('t fills values and picks the plural form of every plural entry', () => {
  assert.equal(t('node_not_ready', { reason: 'down' }), 'not ready: down');
  assert.equal(t('node_not_ready'), 'not ready: {reason}');
  const plurals = Object.entries(en).filter(([, v]) => typeof v !== 'string');
  for (const [key, forms] of plurals) {
    const k = /** @type {import('../../src/lib/i18n.js').MessageKey} */ (key);
    assert.ok(typeof forms === 'object' && 'one' in forms && 'other' in forms, `${key} has one and other`);
    assert.ok(!t(k, { count: 1 }).includes('{count}') && !t(k, { count: 2 }).includes('{count}'), key);
    assert.notEqual(t(k, { count: 1 }), t(k, { count: 2 }), key);
  }
});
