import { describe, expect, it } from 'vitest';
import { ClaimPace } from '../src/internal/claim-pace.js';

// ClaimPace: how many jobs of a function a node of a shared queue claims beyond its
// workers' room, from the pace at which its claimed jobs end there. The pace is taken from
// whole windows of 100 ms; what is held ahead is what that pace finishes in 50 ms, at most
// 1,000, and nothing once no end was seen for two windows.

/** `perMs` ends at each ms of [from, to): a steady pace. */
function endSteadily(pace: ClaimPace, from: number, to: number, perMs: number): void {
  for (let t = from; t < to; t++) for (let i = 0; i < perMs; i++) pace.ended(t);
}

describe('ClaimPace', () => {
  it('holds nothing ahead when no job ended', () => {
    const pace = new ClaimPace();
    expect(pace.ahead(0)).toBe(0);
    expect(pace.ahead(50)).toBe(0);
    expect(pace.ahead(1_000_000)).toBe(0);
  });

  it('holds nothing ahead during the first window: there is no pace yet', () => {
    const pace = new ClaimPace();
    endSteadily(pace, 0, 100, 5);
    for (const now of [0, 1, 50, 99]) expect(pace.ahead(now)).toBe(0);
  });

  it('holds what a steady pace finishes in 50 ms, from the last whole window', () => {
    const pace = new ClaimPace();
    // 2 ends a ms: the window [0, 100) closes with the end at 100.
    endSteadily(pace, 0, 100, 2);
    pace.ended(100);
    expect(pace.ahead(100)).toBe(100); // 2 a ms * 50 ms
    // The pace stays while it holds, window after window.
    endSteadily(pace, 101, 400, 2);
    pace.ended(400);
    expect(pace.ahead(400)).toBe(100);
    expect(pace.ahead(450)).toBe(100);
  });

  it('follows the pace of the last whole window, up and down', () => {
    const pace = new ClaimPace();
    endSteadily(pace, 0, 100, 2);
    endSteadily(pace, 100, 200, 10);
    expect(pace.ahead(199)).toBe(100); // the window [0, 100): 2 a ms
    pace.ended(200);
    expect(pace.ahead(200)).toBe(500); // the window [100, 200): 10 a ms
    endSteadily(pace, 201, 300, 1);
    pace.ended(300);
    expect(pace.ahead(300)).toBe(50); // [200, 300): 100 ends, 1 a ms
  });

  it('rounds a fractional pace down', () => {
    const pace = new ClaimPace();
    // One end every 4 ms: 25 in [0, 100), 0.25 a ms, 12.5 in 50 ms.
    for (let t = 0; t < 100; t += 4) pace.ended(t);
    pace.ended(100);
    expect(pace.ahead(100)).toBe(12);
  });

  it('holds at most 1,000 ahead, whatever the pace', () => {
    const fast = new ClaimPace();
    endSteadily(fast, 0, 100, 30); // 30 a ms would be 1,500
    fast.ended(100);
    expect(fast.ahead(100)).toBe(1000);

    const faster = new ClaimPace();
    endSteadily(faster, 0, 100, 100); // 5,000
    faster.ended(100);
    expect(faster.ahead(100)).toBe(1000);

    const atCap = new ClaimPace();
    endSteadily(atCap, 0, 100, 20); // exactly 1,000
    atCap.ended(100);
    expect(atCap.ahead(100)).toBe(1000);
  });

  it('holds nothing once nothing ended for two windows', () => {
    const pace = new ClaimPace();
    endSteadily(pace, 0, 100, 2);
    pace.ended(100); // the window [100, ...) opens here
    expect(pace.ahead(299)).toBe(100);
    expect(pace.ahead(300)).toBe(0);
    expect(pace.ahead(10_000)).toBe(0);
  });

  it('counts a gap after a window: an idle function slows down', () => {
    const pace = new ClaimPace();
    endSteadily(pace, 0, 100, 2);
    endSteadily(pace, 100, 200, 2);
    // The window [100, ...) had 200 ends, then none until 400: 200 / 300 ms a ms.
    pace.ended(400);
    expect(pace.ahead(400)).toBe(Math.floor((200 / 300) * 50)); // 33, not 100
    // And the pace after the gap is fresh again: two windows from 400.
    expect(pace.ahead(599)).toBe(33);
    expect(pace.ahead(600)).toBe(0);
  });
});
