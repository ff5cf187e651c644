import { describe, expect, it } from 'vitest';
import { createLogger, rateLimitedLog, redactUrl } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
  return { lines, logger: createLogger({ level: 'info' }, stream) };
}

describe('createLogger', () => {
  it('redacts authorization headers, tokens and the influx token', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer abc' } },
        token: 'abc',
        config: { tokens: 'a:admin:abc', influx: { url: 'http://i', token: 'influx-secret' } },
        device: { password: 'pw' },
      },
      'hello',
    );
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/abc|influx-secret|"pw"/);
    expect(lines[0]).toMatchObject({ token: '[Redacted]', device: { password: '[Redacted]' }, msg: 'hello' });
  });

  it('redacts the token query parameter from serialized request URLs', () => {
    const { lines, logger } = capture();
    logger.child({ component: 'http' }).info({ req: { method: 'GET', url: '/api/v1/stream?x=1&token=abc' } }, 'ws');
    expect(lines[0]).toMatchObject({ component: 'http', req: { method: 'GET', url: '/api/v1/stream?x=1&token=[Redacted]' } });
    expect(redactUrl('/a?token=abc#f')).toBe('/a?token=[Redacted]#f');
  });

  it('honours the level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
    logger.info('quiet');
    logger.warn('loud');
    expect(lines).toHaveLength(1);
  });
});

describe('rateLimitedLog', () => {
  it('logs once per key per window and reports how many it suppressed', () => {
    const { lines, logger } = capture();
    let t = 0;
    const log = rateLimitedLog(logger, 'mqtt.rejected', 60_000, () => t);
    log('amr-1', 'bad state message', { reason: 'schema' });
    log('amr-1', 'bad state message', { reason: 'schema' });
    log('amr-1', 'bad state message', { reason: 'schema' });
    log('amr-2', 'bad state message', { reason: 'decode' });
    t = 59_999;
    log('amr-1', 'bad state message');
    expect(lines).toHaveLength(2);
    t = 60_000;
    log('amr-1', 'bad state message', { reason: 'schema' });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ event: 'mqtt.rejected', key: 'amr-1', reason: 'schema', suppressed: 0, level: 40 });
    expect(lines[1]).toMatchObject({ key: 'amr-2', reason: 'decode', suppressed: 0 });
    expect(lines[2]).toMatchObject({ key: 'amr-1', suppressed: 3 });
  });

  it('keeps its memory bounded under many distinct keys', () => {
    const { lines, logger } = capture();
    const log = rateLimitedLog(logger, 'flood', 60_000, () => 0);
    for (let i = 0; i < 10_050; i++) log(`dev-${i}`, 'bad');
    // Evicted keys log again rather than being silenced forever.
    log('dev-0', 'bad');
    expect(lines).toHaveLength(10_051);
  });
});
