/** One thing wrong with an inbound message: where (JSON-pointer-like path) and what. */
export interface ProtocolProblem {
  path: string;
  problem: string;
}

/**
 * The only error our decoders throw. Callers count, log and drop bad messages; they never
 * crash on them, so everything that can go wrong with bytes from the network ends up here
 * with a short reason an integrator can act on.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly problems: ProtocolProblem[];

  constructor(message: string, problems: ProtocolProblem[] = []) {
    super(message);
    this.problems = problems;
  }
}
