/** The progress bar's line (rate, ETA) and its redraw policy, with a fake clock. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { formatDuration, formatProgress, ProgressBar } from './progress';

describe.skipIf(testBackend() !== 'cpu')('progress bar', () => {
  it('formats the bar, rate and ETA', () => {
    // 10 of 40 in 2 s: 5 fps, 30 left → 6 s.
    expect(formatProgress({ done: 10, total: 40, elapsedMs: 2000, label: 'track', width: 8 })).toBe(
      'track [##......] 10/40  25%  5.00 fps  ETA 0:06',
    );
    expect(formatProgress({ done: 3, total: null, elapsedMs: 1500 })).toBe('3  2.00 fps  elapsed 0:02');
    expect(formatProgress({ done: 0, total: 5, elapsedMs: 0, width: 4 })).toBe(
      '[....] 0/5   0%  0.00 fps  ETA --:--',
    );
    expect(formatDuration(3725)).toBe('1:02:05');
  });

  it('redraws in place in a terminal, throttled, and prints lines elsewhere', () => {
    let t = 0;
    const chunks: string[] = [];
    const out = new Writable({
      write(c, _e, cb) {
        chunks.push(String(c));
        cb();
      },
    });
    const bar = new ProgressBar(out, { total: 4, interactive: true, now: () => t, intervalMs: 100 });
    for (let i = 0; i < 4; i++) {
      t += 60;
      bar.tick();
    }
    bar.done();
    bar.done();
    // Ticks at t = 60 (first), 180 (≥ 100 after 60); then the final line.
    expect(chunks).toHaveLength(3);
    expect(chunks[0]).toMatch(/^\r\[.*\] 1\/4/);
    expect(chunks[2]).toMatch(/4\/4 100% {2}16\.7 fps {2}ETA 0:00/);
    expect(chunks[2]?.endsWith('\u001b[K\n')).toBe(true);
    const lines: string[] = [];
    const log = new Writable({
      write(c, _e, cb) {
        lines.push(String(c));
        cb();
      },
    });
    const plain = new ProgressBar(log, { total: null, interactive: false, now: () => 0 });
    plain.tick();
    plain.done();
    expect(lines.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
  });
});
