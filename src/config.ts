/**
 * The whole configuration of a Pickwire process: one TypeBox schema, four layers.
 *
 *   defaults  <  JSON config file (`--config <file>` or PICKWIRE_CONFIG)  <  PICKWIRE_* env  <  CLI flags
 *
 * Every setting is a key in the schema; its env variable and CLI flag are derived from the key
 * (`influx.url` -> `PICKWIRE_INFLUX_URL`, `--influx-url`) so the three spellings can never drift
 * apart, and `CONFIG_DOCS` (which the README table is checked against) comes from the same walk.
 * A bad value stops the boot with a message naming the key and where the value came from:
 * an operator who mistyped a port must not get a core listening somewhere else.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { PickwireError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const Port = (def: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: def, description });

const NonEmpty = (opts: { default?: string; description: string; pattern?: string; 'x-problem'?: string }) =>
  Type.String({ minLength: 1, ...opts });

export const ConfigSchema = Type.Object(
  {
    httpPort: Port(8080, 'HTTP port of the API, dashboard and /metrics (0 picks a free port).'),
    httpHost: NonEmpty({ default: '0.0.0.0', description: 'Address the HTTP server binds to.' }),
    mqttPort: Port(1883, 'Port of the embedded MQTT broker (0 picks a free port). Ignored when mqttUrl is set.'),
    mqttHost: NonEmpty({
      default: '0.0.0.0',
      description: 'Address the embedded MQTT broker binds to; all interfaces so real devices can join.',
    }),
    mqttUrl: Type.Optional(
      NonEmpty({
        pattern: '^(mqtts?|wss?|tcp|ssl)://.+',
        'x-problem': 'must be a broker URL such as mqtt://host:1883 or mqtts://host:8883',
        description: 'External MQTT broker URL. Unset: the core starts its embedded broker.',
      }),
    ),
    mqttInterface: NonEmpty({
      default: 'uagv',
      pattern: '^[A-Za-z0-9_-]+$',
      'x-problem': 'must be one MQTT topic level of letters, digits, _ or -',
      description: 'VDA 5050 interface name, the first topic level of `{interface}/v2/...`.',
    }),
    mqttUsersFile: Type.Optional(
      NonEmpty({
        description:
          'JSON file of MQTT logins for the embedded broker, `{ "users": [{ "username", "role": "device"|"observer"|"core", "passwordHash" }] }` (hash with `npx tsx src/adapters/mqtt/hash-password.ts`); a device\'s username is its topic address. Unset: with `simulate` the demo devices get generated logins, otherwise the broker accepts anonymous clients (logged loudly).',
      }),
    ),
    mqttUsername: NonEmpty({ default: 'pickwire-core', description: 'Username the core logs in with on an external broker (the embedded broker gives the core its own login).' }),
    mqttPassword: Type.Optional(NonEmpty({ description: 'Password of mqttUsername on an external broker.' })),
    mqttCaFile: Type.Optional(NonEmpty({ description: 'PEM CA certificate(s) the core trusts for an external mqtts:// broker with a private CA.' })),
    tls: Type.Optional(
      Type.Object(
        {
          certFile: NonEmpty({ description: 'PEM certificate chain: HTTP is served over HTTPS and the embedded broker speaks MQTT over TLS (mqtts) on mqttPort.' }),
          keyFile: NonEmpty({ description: 'PEM private key of tls.certFile.' }),
        },
        { additionalProperties: false },
      ),
    ),
    httpRateLimitPerSecond: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      default: 2000,
      description: 'Requests per second one API token (or, without one, one client address) may make under /api/v1; more get 429 PW_ERR_RATE_LIMITED with Retry-After. 0 turns the limit off.',
    }),
    dataDir: NonEmpty({ default: './data', description: 'Directory of the SQLite store and the generated admin token.' }),
    site: NonEmpty({ default: 'demo', description: 'Site layout: a bundled layout name or a path to a layout JSON file.' }),
    simulate: Type.Boolean({
      default: false,
      description: 'Attach the simulated devices and order feed of the site. `npm start` turns it on.',
    }),
    tokens: Type.Optional(
      NonEmpty({
        description:
          'API tokens as `name:role:token,...` (roles channel, operator, viewer, admin). Unset: an admin token is created in `<dataDir>/admin-token`.',
      }),
    ),
    shopifyWebhookSecret: Type.Optional(
      NonEmpty({
        description:
          'Secret that signs Shopify webhooks (X-Shopify-Hmac-Sha256). Unset: POST /api/v1/webhooks/shopify/orders-create answers 503 and Shopify keeps retrying.',
      }),
    ),
    influx: Type.Optional(
      Type.Object(
        {
          url: NonEmpty({
            pattern: '^https?://.+',
            'x-problem': 'must be an http(s) URL such as http://localhost:8086',
            description: 'InfluxDB 2 URL for device metrics and KPIs. Unset: an in-memory ring feeds the dashboard.',
          }),
          token: NonEmpty({ description: 'InfluxDB API token.' }),
          org: NonEmpty({ default: 'pickwire', description: 'InfluxDB organisation.' }),
          bucket: NonEmpty({ default: 'pickwire', description: 'InfluxDB bucket.' }),
        },
        { additionalProperties: false },
      ),
    ),
    logLevel: Type.Union(
      LOG_LEVELS.map((l) => Type.Literal(l)),
      { default: 'info', description: 'pino log level.' },
    ),
    devAuthDisabled: Type.Boolean({
      default: false,
      description: 'DEVELOPMENT ONLY: turn API authentication off (every request acts as admin). Logged loudly.',
    }),
    shutdownTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 10_000,
      description: 'How long a graceful shutdown may take before the process exits anyway.',
    }),
    idempotencyRetentionHours: Type.Integer({
      minimum: 24,
      maximum: 24 * 365,
      default: 72,
      description: 'How long intake remembers an Idempotency-Key (and a webhook id) to replay its first response; at least 24 h.',
    }),
    outboxRetentionMinutes: Type.Integer({
      minimum: 1,
      maximum: 7 * 24 * 60,
      default: 60,
      description: 'How long a device command stays in the store after its device confirmed it (for troubleshooting; the event journal keeps every command for good).',
    }),
    riskHoldThreshold: Type.Number({
      minimum: 0,
      default: 70,
      description: 'Risk score at or over which intake places a fraud hold on an order (see src/domain/risk.ts for the rules and their points).',
    }),
    maxLineQuantity: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 10_000,
      description: 'Most units of one SKU one order may ask for (after merging duplicate lines); more is a 400 naming the line.',
    }),
    lowBatteryPercent: Type.Number({
      minimum: 0,
      maximum: 100,
      default: 15,
      description: 'A vehicle under this battery percent takes no new trip; after its current one it is sent to the nearest free charger.',
    }),
    taskTimeoutSeconds: Type.Integer({
      minimum: 5,
      maximum: 86_400,
      default: 600,
      description: 'A device task with no progress for this long is canceled on the device and retried elsewhere (vehicles) or raised as an exception (fixed equipment).',
    }),
    releaseWindow: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 200,
      description: "Order lines this site's floor may have released (tasks planned) or in picking at once; the rest wait SOURCED, most urgent first.",
    }),
    trafficLookaheadNodes: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 6,
      description:
        'Traffic control: how many nodes ahead of an AMR are reserved for it and released in its order (the VDA 5050 base) at once; the rest of its route is sent as horizon.',
    }),
    tripBatchSize: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 4,
      description:
        "Most lines of one order one AMR trip picks into the order's tote (several pick stops, one drop at pack); 1 sends a trip per line. A vehicle profile's maxPicksPerTrip may allow fewer.",
    }),
    packBaseSeconds: Type.Number({
      minimum: 0,
      maximum: 86_400,
      default: 60,
      description: "Packing: seconds to close, label and induct one order's parcel at the pack station once its last tote arrived, before the per-unit time.",
    }),
    packSecondsPerUnit: Type.Number({ minimum: 0, maximum: 3600, default: 10, description: 'Packing: seconds per unit packed (DESIGN §5 reference: 10).' }),
    shipAtCarrierCutoff: Type.Boolean({
      default: true,
      description: "A packed parcel is marked SHIPPED at its carrier's next cut-off; false: only when an operator or the carrier confirms it (POST /api/v1/shipments/:id/ship).",
    }),
    sourcingWeightCost: Type.Number({ minimum: 0, default: 1, description: 'Sourcing: weight of cost (handling plus carriage) when scoring candidate sites.' }),
    sourcingWeightDistance: Type.Number({ minimum: 0, default: 1, description: 'Sourcing: weight of distance from site to customer.' }),
    sourcingWeightTime: Type.Number({ minimum: 0, default: 1, description: 'Sourcing: weight of the promised delivery time.' }),
    sourcingWeightCo2: Type.Number({ minimum: 0, default: 0.5, description: 'Sourcing: weight of CO2 emitted by the shipments.' }),
    minShipmentValue: Type.Number({
      minimum: 0,
      default: 25,
      description: 'Sourcing never splits an order into a shipment worth less than this (unit prices from the site layout); such lines wait to ship together.',
    }),
    orderFeedRate: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 100_000,
        description: "Orders per minute of the simulated order feed; overrides the site layout's rate.",
      }),
    ),
  },
  { additionalProperties: false },
);

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type Config = DeepReadonly<Static<typeof ConfigSchema>>;

/** The slice of JSON Schema this module reads back out of the TypeBox schema. */
interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
  default?: unknown;
  description?: string;
  'x-problem'?: string;
}

interface Leaf {
  key: string;
  path: string[];
  schema: JsonSchema;
  env: string;
  flag: string;
  secret: boolean;
  check: (value: unknown) => boolean;
}

const SECRET_KEYS = new Set(['tokens', 'influx.token', 'shopifyWebhookSecret', 'mqttPassword']);

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const screaming = (s: string) => kebab(s).replace(/-/g, '_').toUpperCase();

function collectLeaves(schema: JsonSchema, path: string[] = []): Leaf[] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, sub]) => {
    const p = [...path, name];
    if (sub.type === 'object') return collectLeaves(sub, p);
    const key = p.join('.');
    const compiled = Compile(sub as never);
    return [
      {
        key,
        path: p,
        schema: sub,
        env: `PICKWIRE_${p.map(screaming).join('_')}`,
        flag: `--${p.map(kebab).join('-')}`,
        secret: SECRET_KEYS.has(key),
        check: (v: unknown) => compiled.Check(v),
      },
    ];
  });
}

const LEAVES: readonly Leaf[] = collectLeaves(ConfigSchema);
const LEAF_BY_KEY = new Map(LEAVES.map((l) => [l.key, l]));
const LEAF_BY_ENV = new Map(LEAVES.map((l) => [l.env, l]));
const LEAF_BY_FLAG = new Map(LEAVES.map((l) => [l.flag, l]));
const validateConfig = Compile(ConfigSchema);

export interface ConfigDoc {
  key: string;
  env: string;
  flag: string;
  default: string;
  description: string;
}

function showDefault(value: unknown): string {
  if (value === undefined) return '(unset)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** One row per setting; the README configuration table is generated from (and tested against) this. */
export const CONFIG_DOCS: readonly ConfigDoc[] = LEAVES.map((l) => ({
  key: l.key,
  env: l.env,
  flag: l.schema.type === 'boolean' ? `${l.flag} / --no-${l.flag.slice(2)}` : `${l.flag} <value>`,
  default: showDefault(l.schema.default),
  description: l.schema.description ?? '',
}));

/** The README table, so a test can insist the README says exactly what the schema says. */
export function renderConfigTable(): string {
  const rows = CONFIG_DOCS.map(
    (d) => `| \`${d.key}\` | \`${d.env}\` | \`${d.flag}\` | \`${d.default}\` | ${d.description.replace(/\|/g, '\\|')} |`,
  );
  return ['| key | environment | CLI flag | default | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

function problemOf(s: JsonSchema): string {
  if (s['x-problem']) return s['x-problem'];
  if (s.anyOf) return `must be one of ${s.anyOf.map((a) => String(a.const)).join(', ')}`;
  const range = (noun: string) => {
    if (s.minimum !== undefined && s.maximum !== undefined) return `must be ${noun} ${s.minimum}..${s.maximum}`;
    if (s.minimum !== undefined) return `must be ${noun} >= ${s.minimum}`;
    return `must be ${noun}`;
  };
  if (s.type === 'integer') return range('an integer');
  if (s.type === 'number') return range('a number');
  if (s.type === 'boolean') return 'must be true or false';
  if (s.type === 'string' && s.minLength) return 'must be a non-empty string';
  return `must be of type ${s.type ?? 'unknown'}`;
}

/** Environment and CLI values are strings; turn them into what the schema wants, or leave them to fail. */
function coerce(leaf: Leaf, raw: string): unknown {
  const t = leaf.schema.type;
  const s = raw.trim();
  if (t === 'integer' || t === 'number') return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s) ? Number(s) : raw;
  if (t === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(s)) return true;
    if (/^(false|0|no|off)$/i.test(s)) return false;
    return raw;
  }
  return raw;
}

const fail = (message: string): never => {
  throw new PickwireError('PW_ERR_CONFIG_INVALID', message);
};

/** Env and CLI values are shown as typed; file values as JSON, so `"8080"` and `8080` differ visibly. */
function shown(leaf: Leaf, value: unknown, asJson = false): string {
  if (leaf.secret) return '<redacted>';
  return typeof value === 'string' && !asJson ? value : JSON.stringify(value);
}

type Layer = Map<Leaf, unknown>;

function accept(layer: Layer, leaf: Leaf, value: unknown, origin: string): void {
  if (!leaf.check(value)) fail(`${origin}: ${leaf.key} ${problemOf(leaf.schema)}`);
  layer.set(leaf, value);
}

function fileLayer(file: string): Layer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const layer: Layer = new Map();
  const walk = (obj: unknown, prefix: string[]): void => {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      fail(`config file ${file}: ${prefix.length ? prefix.join('.') : 'the top level'} must be a JSON object`);
      return;
    }
    for (const [name, value] of Object.entries(obj)) {
      const key = [...prefix, name].join('.');
      const leaf = LEAF_BY_KEY.get(key);
      if (leaf) {
        accept(layer, leaf, value, `config file ${file}: ${key}=${shown(leaf, value, true)}`);
      } else if (LEAVES.some((l) => l.key.startsWith(`${key}.`))) {
        walk(value, [...prefix, name]);
      } else {
        fail(`config file ${file}: unknown key "${key}" (known keys: ${LEAVES.map((l) => l.key).join(', ')})`);
      }
    }
  };
  walk(json, []);
  return layer;
}

function envLayer(env: Record<string, string | undefined>): Layer {
  const layer: Layer = new Map();
  for (const [name, raw] of Object.entries(env)) {
    const leaf = LEAF_BY_ENV.get(name);
    // Compose files and shells often export a variable as empty to mean "not set".
    if (!leaf || raw === undefined || raw === '') continue;
    accept(layer, leaf, coerce(leaf, raw), `${name}=${shown(leaf, raw)}`);
  }
  return layer;
}

interface CliResult {
  layer: Layer;
  configFile: string | undefined;
}

function cliLayer(argv: readonly string[]): CliResult {
  const layer: Layer = new Map();
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) fail(`unexpected command-line argument "${arg}" (settings are given as --flag value)`);
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const takeValue = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) return fail(`${flag} needs a value`);
      i++;
      return next;
    };
    if (flag === '--config') {
      configFile = takeValue();
      continue;
    }
    const negated = flag.startsWith('--no-') ? LEAF_BY_FLAG.get(`--${flag.slice(5)}`) : undefined;
    if (negated?.schema.type === 'boolean' && inline === undefined) {
      layer.set(negated, false);
      continue;
    }
    const leaf = LEAF_BY_FLAG.get(flag);
    if (!leaf) {
      fail(`unknown command-line flag ${flag} (known flags: --config, ${LEAVES.map((l) => l.flag).join(', ')})`);
      continue;
    }
    if (leaf.schema.type === 'boolean' && inline === undefined) {
      layer.set(leaf, true);
      continue;
    }
    const raw = takeValue();
    accept(layer, leaf, coerce(leaf, raw), `${flag} ${shown(leaf, raw)}`);
  }
  return { layer, configFile };
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const child = node[part];
    if (typeof child === 'object' && child !== null) {
      node = child as Record<string, unknown>;
    } else {
      const fresh: Record<string, unknown> = {};
      node[part] = fresh;
      node = fresh;
    }
  }
  node[path[path.length - 1] ?? ''] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export interface LoadConfigOptions {
  /** Command-line arguments after the script name (`process.argv.slice(2)`). */
  argv: readonly string[];
  env: Record<string, string | undefined>;
  /** Base for a relative config file path and `dataDir`; defaults to `process.cwd()`. */
  cwd?: string;
}

/**
 * Builds the frozen configuration. Throws `PickwireError('PW_ERR_CONFIG_INVALID')` naming the
 * key and the source of the first bad value, an unknown flag or an unknown config-file key.
 */
export function loadConfig({ argv, env, cwd = process.cwd() }: LoadConfigOptions): Config {
  const cli = cliLayer(argv);
  const fileArg = cli.configFile ?? (env.PICKWIRE_CONFIG || undefined);
  const layers = [fileArg ? fileLayer(resolve(cwd, fileArg)) : new Map<Leaf, unknown>(), envLayer(env), cli.layer];

  const raw: Record<string, unknown> = {};
  for (const layer of layers) for (const [leaf, value] of layer) setPath(raw, leaf.path, value);
  const withDefaults = Value.Default(ConfigSchema, raw) as Record<string, unknown>;

  if (!validateConfig.Check(withDefaults)) {
    // Per-value checks already ran, so what remains are settings that need each other.
    const problems = [...validateConfig.Errors(withDefaults)].map((e) => {
      const missing = (e.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      const base = e.instancePath.split('/').filter(Boolean);
      if (e.keyword === 'required' && missing.length) {
        return missing
          .map((m) => {
            const leaf = LEAF_BY_KEY.get([...base, m].join('.'));
            const spelled = leaf ? `${leaf.key} (${leaf.env}, ${leaf.flag})` : [...base, m].join('.');
            return `${spelled} is required when any other ${base.join('.')} setting is given`;
          })
          .join('; ');
      }
      return `${base.join('.') || 'config'} ${e.message}`;
    });
    fail(problems.join('; '));
  }

  const dataDir = withDefaults.dataDir as string;
  if (!isAbsolute(dataDir)) withDefaults.dataDir = resolve(cwd, dataDir);
  return deepFreeze(withDefaults as Config);
}
