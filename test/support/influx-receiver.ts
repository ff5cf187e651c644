/**
 * A local stand-in for InfluxDB 2's write endpoint (`POST /api/v2/write`): checks the token,
 * parses line protocol, records what arrived, and can be told to fail or hang. InfluxDB itself
 * cannot be installed here, so the writer is tested against this.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

// ---------------------------------------------------------------------------------------------
// A small line-protocol parser: escaped spaces/commas/equals in measurement, tag keys/values and
// field keys; quoted string fields with escaped quotes and backslashes; 5i integers, 5u unsigned,
// floats (incl. exponents), booleans; optional timestamp.

export type FieldValue = number | string | boolean;
export interface ParsedLine {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** The field types as written, so a test can tell 5i from 5. */
  types: Record<string, 'float' | 'int' | 'uint' | 'string' | 'bool'>;
  timestamp: number | undefined;
}

export function parseLine(line: string): ParsedLine {
  let i = 0;
  // Measurements escape commas and spaces; tag keys, tag values and field keys also equals signs.
  const readUntil = (stops: string, escapable = ',= \\'): string => {
    let out = '';
    while (i < line.length) {
      const c = line[i] as string;
      if (c === '\\' && i + 1 < line.length && escapable.includes(line[i + 1] as string)) {
        out += line[i + 1];
        i += 2;
        continue;
      }
      if (stops.includes(c)) break;
      out += c;
      i++;
    }
    return out;
  };
  const expectChar = (c: string): void => {
    if (line[i] !== c) throw new Error(`expected '${c}' at ${i} in ${line}`);
    i++;
  };
  const measurement = readUntil(', ', ', \\');
  if (!measurement) throw new Error(`no measurement in ${line}`);
  const tags: Record<string, string> = {};
  while (line[i] === ',') {
    i++;
    const k = readUntil('=, ');
    expectChar('=');
    const v = readUntil(', ');
    if (!k || !v) throw new Error(`empty tag key or value in ${line}`);
    tags[k] = v;
  }
  expectChar(' ');
  const fields: Record<string, FieldValue> = {};
  const types: ParsedLine['types'] = {};
  for (;;) {
    const k = readUntil('=, ');
    expectChar('=');
    if (line[i] === '"') {
      i++;
      let s = '';
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          s += line[i + 1];
          i += 2;
        } else {
          s += line[i];
          i++;
        }
      }
      expectChar('"');
      fields[k] = s;
      types[k] = 'string';
    } else {
      const raw = readUntil(', ');
      if (/^-?\d+i$/.test(raw)) [fields[k], types[k]] = [Number(raw.slice(0, -1)), 'int'];
      else if (/^\d+u$/.test(raw)) [fields[k], types[k]] = [Number(raw.slice(0, -1)), 'uint'];
      else if (/^(t|T|true|True|TRUE)$/.test(raw)) [fields[k], types[k]] = [true, 'bool'];
      else if (/^(f|F|false|False|FALSE)$/.test(raw)) [fields[k], types[k]] = [false, 'bool'];
      else if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) [fields[k], types[k]] = [Number(raw), 'float'];
      else throw new Error(`bad field value '${raw}' in ${line}`);
    }
    if (line[i] === ',') {
      i++;
      continue;
    }
    break;
  }
  let timestamp: number | undefined;
  if (i < line.length) {
    expectChar(' ');
    const raw = line.slice(i);
    if (!/^-?\d+$/.test(raw)) throw new Error(`bad timestamp '${raw}' in ${line}`);
    timestamp = Number(raw);
  }
  return { measurement, tags, fields, types, timestamp };
}


// ---------------------------------------------------------------------------------------------
// A local InfluxDB 2 write endpoint: POST /api/v2/write?org=&bucket=&precision=ms.

export interface WriteRequest {
  org: string | null;
  bucket: string | null;
  precision: string | null;
  lines: ParsedLine[];
}

export type Respond = (n: number) => number | 'hang';

export interface Receiver {
  url: string;
  requests: WriteRequest[];
  points: ParsedLine[];
  /** Status code for the n-th (0-based) write request, or 'hang' to never answer. */
  respond: Respond;
  /** Requests that arrived but have not been answered. */
  open: number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
}

export async function startReceiver(token: string, respond: Respond = () => 204): Promise<Receiver> {
  let n = 0;
  const rx: Receiver = {
    url: '',
    requests: [],
    points: [],
    respond,
    open: 0,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = await readBody(req);
      if (req.method !== 'POST' || url.pathname !== '/api/v2/write') {
        res.writeHead(404).end();
        return;
      }
      if (req.headers.authorization !== `Token ${token}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'unauthorized', message: 'unauthorized access' }));
        return;
      }
      const status = rx.respond(n++);
      if (status === 'hang') {
        rx.open++;
        return;
      }
      if (status !== 204) {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'internal error', message: `status ${status}` }));
        return;
      }
      let lines: ParsedLine[];
      try {
        lines = body.split('\n').filter((l) => l.length > 0).map(parseLine);
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'invalid', message: String(err) }));
        return;
      }
      rx.requests.push({ org: url.searchParams.get('org'), bucket: url.searchParams.get('bucket'), precision: url.searchParams.get('precision'), lines });
      rx.points.push(...lines);
      res.writeHead(204).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  rx.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return rx;
}

