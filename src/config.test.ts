import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOCS, loadConfig, renderConfigTable } from './config.js';
import { PickwireError } from './errors.js';

const cwd = mkdtempSync(join(tmpdir(), 'pw-config-'));
const load = (argv: string[] = [], env: Record<string, string> = {}) => loadConfig({ argv, env, cwd });

function configError(fn: () => unknown): PickwireError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PickwireError);
    expect((err as PickwireError).code).toBe('PW_ERR_CONFIG_INVALID');
    return err as PickwireError;
  }
  throw new Error('expected a config error');
}

function writeFile(name: string, content: unknown): string {
  const file = join(cwd, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = load();
    expect(c).toMatchObject({
      httpPort: 8080,
      httpHost: '0.0.0.0',
      mqttPort: 1883,
      mqttHost: '0.0.0.0',
      mqttInterface: 'uagv',
      site: 'demo',
      simulate: false,
      logLevel: 'info',
      devAuthDisabled: false,
      shutdownTimeoutMs: 10_000,
    });
    expect(c.dataDir).toBe(join(cwd, 'data'));
    expect(c.mqttUrl).toBeUndefined();
    expect(c.tokens).toBeUndefined();
    expect(c.influx).toBeUndefined();
    expect(c.orderFeedRate).toBeUndefined();
  });

  it('layers file < env < CLI', () => {
    const file = writeFile('layers.json', { httpPort: 1000, mqttPort: 1001, site: 'file-site', logLevel: 'warn' });
    const c = load(['--config', file, '--http-port', '3000'], { PICKWIRE_HTTP_PORT: '2000', PICKWIRE_MQTT_PORT: '2001' });
    expect(c.httpPort).toBe(3000);
    expect(c.mqttPort).toBe(2001);
    expect(c.site).toBe('file-site');
    expect(c.logLevel).toBe('warn');
  });

  it('finds the config file through PICKWIRE_CONFIG, relative to cwd', () => {
    writeFile('env-file.json', { orderFeedRate: 12.5 });
    expect(load([], { PICKWIRE_CONFIG: 'env-file.json' }).orderFeedRate).toBe(12.5);
  });

  it('coerces env and CLI strings by the schema', () => {
    const c = load(['--simulate', '--order-feed-rate=30', '--dev-auth-disabled=yes'], {
      PICKWIRE_SHUTDOWN_TIMEOUT_MS: '2500',
      PICKWIRE_MQTT_URL: 'mqtt://broker:1883',
    });
    expect(c.simulate).toBe(true);
    expect(c.orderFeedRate).toBe(30);
    expect(c.devAuthDisabled).toBe(true);
    expect(c.shutdownTimeoutMs).toBe(2500);
    expect(c.mqttUrl).toBe('mqtt://broker:1883');
  });

  it('--no-flag turns a boolean off over the environment', () => {
    expect(load(['--no-simulate'], { PICKWIRE_SIMULATE: 'true' }).simulate).toBe(false);
    expect(load([], { PICKWIRE_SIMULATE: 'true' }).simulate).toBe(true);
  });

  it('treats an empty environment variable as unset', () => {
    expect(load([], { PICKWIRE_MQTT_URL: '', PICKWIRE_HTTP_PORT: '' }).httpPort).toBe(8080);
  });

  it('builds the influx block with defaults for org and bucket', () => {
    const c = load([], { PICKWIRE_INFLUX_URL: 'http://influxdb:8086', PICKWIRE_INFLUX_TOKEN: 's3cret' });
    expect(c.influx).toEqual({ url: 'http://influxdb:8086', token: 's3cret', org: 'pickwire', bucket: 'pickwire' });
  });

  it('names the missing half of the influx settings', () => {
    const err = configError(() => load([], { PICKWIRE_INFLUX_URL: 'http://influxdb:8086' }));
    expect(err.message).toContain('influx.token (PICKWIRE_INFLUX_TOKEN, --influx-token) is required');
  });

  it('reports a bad env value with the variable, the key and the rule', () => {
    const err = configError(() => load([], { PICKWIRE_HTTP_PORT: 'abc' }));
    expect(err.message).toBe('PICKWIRE_HTTP_PORT=abc: httpPort must be an integer 0..65535');
  });

  it('reports bad CLI and file values with their origin', () => {
    expect(configError(() => load(['--mqtt-port', '70000'])).message).toBe(
      '--mqtt-port 70000: mqttPort must be an integer 0..65535',
    );
    expect(configError(() => load(['--log-level', 'loud'])).message).toContain(
      'logLevel must be one of fatal, error, warn, info, debug, trace, silent',
    );
    const file = writeFile('bad.json', { simulate: 'yes' });
    expect(configError(() => load(['--config', file])).message).toBe(
      `config file ${file}: simulate="yes": simulate must be true or false`,
    );
  });

  it('never echoes secrets in errors', () => {
    const err = configError(() => load([], { PICKWIRE_INFLUX_URL: 'ftp://x', PICKWIRE_INFLUX_TOKEN: ' ' }));
    expect(err.message).toContain('influx.url must be an http(s) URL');
    const file = writeFile('secret.json', { influx: { url: 'http://i:8086', token: 42 } });
    const err2 = configError(() => load(['--config', file]));
    expect(err2.message).toContain('influx.token=<redacted>');
    expect(err2.message).not.toContain('42');
  });

  it('takes the Shopify webhook secret from env or flag and never echoes it', () => {
    expect(load([], { PICKWIRE_SHOPIFY_WEBHOOK_SECRET: 'shh' }).shopifyWebhookSecret).toBe('shh');
    expect(load(['--shopify-webhook-secret', 'flag-shh']).shopifyWebhookSecret).toBe('flag-shh');
    expect(load().shopifyWebhookSecret).toBeUndefined();
    const file = writeFile('shopify-secret.json', { shopifyWebhookSecret: 12345 });
    const err = configError(() => load(['--config', file]));
    expect(err.message).toContain('shopifyWebhookSecret=<redacted>');
    expect(err.message).not.toContain('12345');
  });

  it('rejects unknown flags, stray arguments, missing values and unknown file keys', () => {
    expect(configError(() => load(['--http-prot', '1'])).message).toMatch(/^unknown command-line flag --http-prot/);
    expect(configError(() => load(['serve'])).message).toMatch(/unexpected command-line argument "serve"/);
    expect(configError(() => load(['--site'])).message).toBe('--site needs a value');
    const file = writeFile('unknown.json', { httpPort: 1, influx: { url: 'http://x', tokn: 'a' } });
    expect(configError(() => load(['--config', file])).message).toMatch(/unknown key "influx\.tokn"/);
  });

  it('reports an unreadable or non-JSON config file', () => {
    expect(configError(() => load(['--config', 'missing.json'])).message).toMatch(/cannot read config file .*missing\.json/);
    const file = writeFile('broken.json', '{ "httpPort": ');
    expect(configError(() => load(['--config', file])).message).toMatch(/is not valid JSON/);
  });

  it('returns a deeply frozen object', () => {
    const c = load([], { PICKWIRE_INFLUX_URL: 'http://i:8086', PICKWIRE_INFLUX_TOKEN: 't' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.influx)).toBe(true);
    expect(() => {
      (c as { httpPort: number }).httpPort = 1;
    }).toThrow(TypeError);
  });
});

describe('CONFIG_DOCS', () => {
  it('derives env names and flags from the keys', () => {
    const byKey = new Map(CONFIG_DOCS.map((d) => [d.key, d]));
    expect(byKey.get('httpPort')).toMatchObject({ env: 'PICKWIRE_HTTP_PORT', flag: '--http-port <value>', default: '8080' });
    expect(byKey.get('influx.token')).toMatchObject({ env: 'PICKWIRE_INFLUX_TOKEN', default: '(unset)' });
    expect(byKey.get('simulate')?.flag).toBe('--simulate / --no-simulate');
    expect(CONFIG_DOCS.every((d) => d.description.length > 0)).toBe(true);
  });

  it('README.md carries the generated configuration table verbatim', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const d of CONFIG_DOCS) expect(readme).toContain(`\`${d.env}\``);
    // On failure: paste the output of renderConfigTable() into the README's Configuration section.
    expect(readme).toContain(renderConfigTable());
  });
});
