// The time limits on the action's steps after the run (src/action/deadline.ts), with real timers of tens of
// milliseconds: each step's own limit, and after a cancel what is left of the budget, counted from the signal.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Deadline } from '../src/action/deadline.ts';

const never = () => new Promise<never>(() => {});

/** How long `p` takes to reject, and with what. */
async function rejection(p: Promise<unknown>): Promise<{ ms: number; message: string }> {
  const t0 = performance.now();
  try {
    await p;
  } catch (e) {
    return { ms: performance.now() - t0, message: (e as Error).message };
  }
  return assert.fail('resolved');
}

describe('Deadline', () => {
  it('passes a step that finishes in time through, value or error', async () => {
    const d = new Deadline(new AbortController().signal, 1000);
    assert.equal(await d.bound(Promise.resolve(7), 50, 'the step'), 7);
    await assert.rejects(d.bound(Promise.reject(new Error('own error')), 50, 'the step'), { message: 'own error' });
  });

  it('ends a step at its own limit, naming it', async () => {
    const d = new Deadline(new AbortController().signal, 1000);
    const r = await rejection(d.bound(never(), 50, 'the upload'));
    assert.equal(r.message, 'the upload took longer than 0.05 s');
    assert.ok(r.ms >= 45 && r.ms < 1000, `${r.ms} ms`);
  });

  it('once cancelled, ends a step within the budget, however long its own limit', async () => {
    const stop = new AbortController();
    const d = new Deadline(stop.signal, 100);
    const pending = rejection(d.bound(never(), 60_000, 'the comment'));
    await sleep(20);
    stop.abort();
    const r = await pending;
    assert.equal(r.message, 'the comment did not finish in time after the cancel');
    assert.ok(r.ms >= 110 && r.ms < 1000, `${r.ms} ms: 20 ms before the cancel, then the 100 ms budget`);
  });

  it('counts the budget from the signal: a step begun later gets only what is left', async () => {
    const stop = new AbortController();
    const d = new Deadline(stop.signal, 400);
    stop.abort();
    await sleep(250);
    const r = await rejection(d.bound(never(), 60_000, 'the upload'));
    assert.ok(r.ms < 300, `${r.ms} ms: about 150 ms were left of the 400 ms budget`);
  });
});
