/**
 * A lean HTTP/1.1 client for the load generators: keep-alive sockets with one request in flight
 * each, requests written as one buffer, responses framed by Content-Length (or a chunked body's
 * last chunk) and never parsed further — the benchmarks need only the status. Its point is to cost
 * the shared machine little CPU, not to be a general client.
 */
import { connect, type Socket } from 'node:net';

interface InFlight {
  resolve(status: number): void;
  reject(err: Error): void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('\r\n0\r\n\r\n');

class Connection {
  private buffered: Buffer = Buffer.alloc(0);
  private current: InFlight | undefined;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  static open(host: string, port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => {
        socket.off('error', reject);
        resolve(new Connection(socket));
      });
      socket.once('error', reject);
    });
  }

  send(request: string, inFlight: InFlight): void {
    this.current = inFlight;
    this.socket.write(request);
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headerEnd = this.buffered.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.buffered.toString('latin1', 0, headerEnd);
    const bodyStart = headerEnd + HEADER_END.length;
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let end: number;
    if (length) {
      end = bodyStart + Number(length[1]);
      if (this.buffered.length < end) return;
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const last = this.buffered.indexOf(CHUNKED_END, bodyStart - 2);
      if (last < 0) return;
      end = last + CHUNKED_END.length;
    } else {
      this.fail(new Error(`response without a length: ${head.slice(0, 80)}`));
      return;
    }
    const status = Number(head.slice(9, 12));
    this.buffered = this.buffered.subarray(end);
    const done = this.current;
    this.current = undefined;
    done?.resolve(status);
  }

  private fail(err: Error): void {
    this.closed = true;
    const pending = this.current;
    this.current = undefined;
    pending?.reject(err);
  }
}

/** A fixed set of connections; a request waits for a free one in the order it was made. */
export class HttpLitePool {
  private readonly idle: Connection[];
  private readonly waiting: (() => void)[] = [];

  private constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connections: Connection[],
  ) {
    this.idle = [...connections];
  }

  static async connect(baseUrl: string, size: number): Promise<HttpLitePool> {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:') throw new Error(`http-lite speaks plain http, not ${url.protocol}`);
    const port = Number(url.port || 80);
    const connections = await Promise.all(Array.from({ length: size }, () => Connection.open(url.hostname, port)));
    return new HttpLitePool(url.hostname, port, connections);
  }

  async post(path: string, body: string, headers: Record<string, string>): Promise<number> {
    const connection = await this.acquire();
    let request = `POST ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
    for (const [name, value] of Object.entries(headers)) request += `${name}: ${value}\r\n`;
    request += `\r\n${body}`;
    try {
      return await new Promise<number>((resolve, reject) => connection.send(request, { resolve, reject }));
    } finally {
      this.release(connection);
    }
  }

  close(): void {
    for (const connection of this.connections) connection.close();
  }

  private async acquire(): Promise<Connection> {
    for (;;) {
      const connection = this.idle.pop();
      if (connection) {
        if (!connection.closed) return connection;
        const fresh = await Connection.open(this.host, this.port);
        this.connections[this.connections.indexOf(connection)] = fresh;
        return fresh;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(connection: Connection): void {
    this.idle.push(connection);
    this.waiting.shift()?.();
  }
}
